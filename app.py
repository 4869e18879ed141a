"""Create the application for `flask --app app` and for production servers."""

from kb import create_app

app = create_app()
