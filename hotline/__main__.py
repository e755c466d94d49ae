from hotline.app.cli import app

app(prog_name="hotline")
