"""The reference: the requests-oauthlib tutorial's Flask GitHub login (the articles
oauth-fcgi grew from), pointed at the bench's stub provider. Run by gunicorn behind the same nginx.

As in the seeds: the state and the token live in Flask's signed session cookie, the
callback exchanges the code with OAuth2Session.fetch_token, and /profile asks the
provider's /user with the token each time. Only the URLs and names are the bench's.
"""
import os

from flask import Flask, jsonify, redirect, request, session, url_for
from requests_oauthlib import OAuth2Session

# The stub speaks plain http on loopback; oauthlib refuses that without this.
os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")

client_id = os.environ.get("CLIENT_ID", "bench-flask")
client_secret = os.environ.get("CLIENT_SECRET", "bench-secret")
authorization_base_url = os.environ["AUTHORIZE_URL"]
token_url = os.environ["TOKEN_URL"]
user_url = os.environ["USER_URL"]
redirect_uri = os.environ["REDIRECT_URI"]
# Where the app is mounted: /flask against the instant stub, /flask-slow against the slow one.
prefix = os.environ.get("PREFIX", "/flask")

app = Flask(__name__)
app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY", "bench " * 8)


@app.route(prefix + "/login")
def login():
    """Step 1: send the user to the provider, the state kept in the session."""
    github = OAuth2Session(client_id, redirect_uri=redirect_uri, scope=["read:user", "user:email"])
    authorization_url, state = github.authorization_url(authorization_base_url)
    session["oauth_state"] = state
    return redirect(authorization_url)


@app.route(prefix + "/callback")
def callback():
    """Step 3: the provider sent the user back; exchange the code for a token."""
    if "oauth_state" not in session:
        return "no sign-in in progress", 400
    github = OAuth2Session(client_id, state=session["oauth_state"], redirect_uri=redirect_uri)
    token = github.fetch_token(token_url, client_secret=client_secret, authorization_response=request.url)
    session["oauth_token"] = token
    return redirect(url_for(".profile"))


@app.route(prefix + "/profile")
def profile():
    """The signed-in user, fetched from the provider with the token."""
    if "oauth_token" not in session:
        return jsonify(error="not signed in"), 401
    github = OAuth2Session(client_id, token=session["oauth_token"])
    return jsonify(github.get(user_url).json())
