from faceswap.cli.main import main

raise SystemExit(main())
