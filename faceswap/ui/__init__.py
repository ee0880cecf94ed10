"""`faceswap ui`: a local web page over the whole pipeline, on top of the same CLI and Python API.

    faceswap ui my_project                 # http://127.0.0.1:7860/, reads and writes only in my_project/

One FastAPI app (``app.py``) serves one static page (``static/``). Long work (extract, train,
convert, evaluate, classify) runs as background processes of the real CLI (``jobs.py``,
``runner.py``), whose state is JSON in WORKSPACE/.ui/jobs, so closing the page or restarting
the server does not stop a training and the page finds it again. Only the single-frame convert
preview runs in the server (``preview.py``). Every path the page sends is resolved inside the
workspace (``workspace.py``); uploads are size-limited and type-checked (``uploads.py``).
Needs the ``ui`` extra (fastapi, uvicorn); nothing else of faceswap imports this package.

Why FastAPI and one static page, not Gradio (facefusion's choice): Gradio pulls a large tree
(pandas, matplotlib, pydub, gradio-client, huggingface-hub, ...; hundreds of MB, slow to install
in CI) and its components hide the HTTP layer, where the workspace confinement, the upload
checks and the token have to sit. Two small packages and ~400 lines of plain HTML/JS do the
job, load in well under a second, and are tested in a real browser.
"""
