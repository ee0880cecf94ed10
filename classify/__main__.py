from classify.cli import main

raise SystemExit(main())
