"""The Flask-Login tutorial app (README of Flask-Login 0.6), plus a bare /hello route.

Run by the benchmark with Debian's gunicorn: gunicorn -w 2 --threads 4 flask_app:app
"""
import flask
import flask_login

app = flask.Flask(__name__)
app.secret_key = "bench-secret-bench-secret-bench-secret-0123456789"

login_manager = flask_login.LoginManager()
login_manager.init_app(app)

users = {"user0": {"password": "correct horse battery staple"}}


class User(flask_login.UserMixin):
    pass


@login_manager.user_loader
def user_loader(email):
    if email not in users:
        return None
    user = User()
    user.id = email
    return user


@app.route("/hello")
def hello():
    return "Hello, World!"


@app.route("/login", methods=["POST"])
def login():
    body = flask.request.get_json(silent=True) or flask.request.form
    email = body.get("username")
    if email in users and body.get("password") == users[email]["password"]:
        user = User()
        user.id = email
        flask_login.login_user(user)
        return "ok"
    return "no", 401


@app.route("/protected")
@flask_login.login_required
def protected():
    return "Hello, " + flask_login.current_user.id + "!"
