"""Labelled corpus for bench/audit_peers/run.py.

Every case is one file: a planted secret (label "secret") or a look-alike that
must not be reported (label "lookalike"), with a few lines of ordinary context
around it, in the format it would have in a device fleet's tree. The manifest
records, for each case, its category, file, label, the line of the planted
value (0 for binaries: anywhere in the file) and what it is.

Planted values are random (seeded, so every run builds the same corpus) in
the shape of real credentials; none is a real credential. Prefixes that the
scanners look for are written in pieces so that this file itself scans clean.
"""

import base64
import json
import os
import random
import shutil
import subprocess
from dataclasses import dataclass, asdict, field

SECRET = "secret"
LOOKALIKE = "lookalike"

# Secret-scanner categories, then the one `audit code` category.
SECRET_CATEGORIES = [
    "dotenv", "yaml-compose-k8s", "ini-properties", "shell-systemd-docker",
    "source-c", "source-python", "source-other", "token-shapes", "firmware",
]
CODE_CATEGORIES = ["python-tls"]

AKIA = "AK" + "IA"
GHP = "gh" + "p_"
XOXB = "xo" + "xb-"
SK_LIVE = "sk" + "_live_"
AIZA = "AI" + "za"
NPM = "np" + "m_"
PEM_KEY = "PRIVATE" + " KEY"
DASHES = "-" * 5


@dataclass
class Case:
    id: str
    category: str
    file: str          # relative to the corpus root
    label: str         # SECRET or LOOKALIKE
    line: int          # 1-based line of the planted value; 0 = anywhere (binary)
    what: str
    binary: bool = False
    tags: list = field(default_factory=list)


class Values:
    """Fake but realistic credential values from a seeded generator."""

    # Words the scanners treat as placeholders must never appear by chance.
    _AVOID = ("xxx", "fake", "test", "demo", "sample", "example", "dummy", "pass", "token", "secret")

    def __init__(self, seed=20):
        self.rng = random.Random(seed)

    def _pick(self, alphabet, n):
        while True:
            s = "".join(self.rng.choice(alphabet) for _ in range(n))
            if not any(w in s.lower() for w in self._AVOID):
                return s

    def alnum(self, n):
        return self._pick("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789", n)

    def hex(self, n):
        return self._pick("0123456789abcdef", n)

    def b64(self, n):
        return self._pick("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", n)

    def upper32(self, n):
        return self._pick("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", n)

    def password(self, hash_inside=False):
        """A 13-16 character password with upper, lower, digits and symbols;
        with hash_inside, a '#' in the middle (the dotenv/YAML pitfall)."""
        core = self.alnum(5) + self.rng.choice("!@%^*+-_") + self.alnum(4) + str(self.rng.randrange(10, 99))
        if hash_inside:
            core = core[:3] + "#" + core[3:]
        return core

    def pem_lines(self, label):
        body = [self.b64(64) for _ in range(3)] + [self.b64(20) + "=="]
        return [DASHES + "BEGIN " + label + DASHES] + body + [DASHES + "END " + label + DASHES]


class Corpus:
    def __init__(self, root):
        self.root = root
        self.cases = []
        self.v = Values()

    def add(self, category, name, label, lines, at, what, tags=()):
        """Writes `lines` to <category>/<case id>/<name>; `at` is the index (0-based)
        of the planted line in `lines`."""
        cid = "%s-%03d" % (category, sum(1 for c in self.cases if c.category == category) + 1)
        rel = os.path.join(category, cid, name)
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        self.cases.append(Case(cid, category, rel, label, at + 1, what, False, list(tags)))

    def add_binary(self, category, name, label, data, what, tags=()):
        cid = "%s-%03d" % (category, sum(1 for c in self.cases if c.category == category) + 1)
        rel = os.path.join(category, cid, name)
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        self.cases.append(Case(cid, category, rel, label, 0, what, True, list(tags)))

    def one(self, category, name, label, before, planted, after, what, tags=()):
        self.add(category, name, label, before + [planted] + after, len(before), what, tags)


# --- dotenv -----------------------------------------------------------------

def dotenv(c):
    v = c.v
    head = ["# gateway deployment settings", "LOG_LEVEL=info", "MQTT_HOST=broker.fleet.internal"]
    tail = ["MQTT_PORT=8883", "SPOOL_DIR=/var/lib/armored/spool"]
    S, L = SECRET, LOOKALIKE
    for name, line, what in [
        (".env", "DB_PASSWORD=" + v.password(True), "unquoted password with '#' inside, .env"),
        ("prod.env", "DB_PASSWORD=" + v.password(True), "unquoted password with '#' inside, *.env"),
        (".env.production", "MQTT_PASS=" + v.password(), "unquoted password with '$' and '@'"),
        ("q.env", 'DB_PASSWORD="' + v.password(True) + '"', "quoted password"),
        (".env", "export API_TOKEN=" + v.alnum(32), "export line"),
        (".env", "AWS_SECRET_ACCESS_KEY=" + v.b64(40), "AWS secret access key"),
        (".env", "AWS_ACCESS_KEY_ID=" + AKIA + v.upper32(16), "AWS access key id"),
        (".env", "GITHUB_TOKEN=" + GHP + v.alnum(36), "GitHub token"),
        (".env", "SLACK_WEBHOOK=https://hooks.slack.com/services/T" + v.upper32(8) + "/B" + v.upper32(8) + "/" + v.alnum(24),
         "Slack webhook"),
        (".env", "DATABASE_URL=postgres://app:" + v.password() + "@db.fleet.internal:5432/telemetry", "password in a database URL"),
        (".env", "MQTT_URL=mqtts://gw01:" + v.password() + "@broker.fleet.internal:8883", "password in an MQTT URL"),
        (".env", "SECRET_KEY=" + v.b64(50), "framework secret key"),
        (".env", "STRIPE_SECRET_KEY=" + SK_LIVE + v.alnum(24), "Stripe live key"),
        (".env", "JWT_SECRET=" + v.hex(64), "JWT signing secret"),
        (".env", "REDIS_PASSWORD=" + v.password() + "  # rotated quarterly", "unquoted password then a comment"),
        (".env", "WIFI_PSK=" + v.password(), "Wi-Fi pre-shared key"),
        ("gateway.env", "NPM_TOKEN=" + NPM + v.alnum(36), "npm token"),
        (".env.local", "OPENAI_API_KEY=sk-proj-" + v.alnum(48), "API key"),
    ]:
        c.one("dotenv", name, S, head, line, tail, what)
    for name, line, what in [
        (".env", "DB_PASSWORD=${DB_PASSWORD}", "${VAR} reference"),
        (".env", "DB_PASSWORD=", "empty value"),
        (".env", "DB_PASSWORD=changeme", "placeholder"),
        (".env", "MQTT_PASS=$MQTT_PASS", "$VAR reference"),
        (".env", "API_TOKEN=<your-token>", "placeholder in angle brackets"),
        (".env", "DB_PASSWORD_FILE=/run/secrets/db_password", "path to a Docker secret"),
        (".env", "PASSWORD_MIN_LENGTH=12", "policy setting"),
        (".env", "TOKEN_TTL=3600", "token lifetime"),
        (".env", "SECRET_NAME=armored-db", "name of a secret, not the secret"),
        (".env", "AWS_ACCESS_KEY_ID=" + AKIA + "IOSFODNN7" + "EXAMPLE", "AWS documentation key"),
        (".env", "DATABASE_URL=postgres://app:${DB_PASSWORD}@db:5432/telemetry", "URL with a ${VAR} password"),
        (".env", "GIT_COMMIT=" + v.hex(40), "commit hash"),
        (".env", "API_TOKEN=op://fleet/mqtt/token", "1Password reference"),
        (".env", "DB_PASSWORD=xxxxxxxx", "masked value"),
    ]:
        c.one("dotenv", name, L, head, line, tail, what)


# --- YAML: application config, docker-compose, Kubernetes, CI -----------------

def yaml_compose_k8s(c):
    v = c.v
    cat = "yaml-compose-k8s"
    S, L = SECRET, LOOKALIKE
    app_head = ["mqtt:", "  host: broker.fleet.internal", "  port: 8883"]
    compose_head = ["services:", "  gateway:", "    image: armored/gateway:1.4", "    environment:"]
    k8s_head = ["apiVersion: apps/v1", "kind: Deployment", "metadata:", "  name: gateway", "spec:",
                "  template:", "    spec:", "      containers:", "        - name: gateway",
                "          image: armored/gateway:1.4", "          env:"]
    secret_head = ["apiVersion: v1", "kind: Secret", "metadata:", "  name: mqtt-credentials"]
    for name, before, line, after, what in [
        ("config.yaml", app_head, "  db_password: " + v.password(True), [], "unquoted password with '#' inside"),
        ("config.yaml", app_head, "  password: " + v.password(), ["  client_id: gw-01"], "nested password"),
        ("settings.yml", [], "api_token: " + v.alnum(32), ["timeout: 30"], "API token"),
        ("docker-compose.yml", compose_head, "      - DB_PASSWORD=" + v.password(True), ["      - LOG_LEVEL=info"],
         "compose list entry"),
        ("docker-compose.yml", compose_head, '      - "MQTT_PASS=' + v.password() + '"', [], "quoted compose list entry"),
        ("compose.yaml", compose_head, "      POSTGRES_PASSWORD: " + v.password(), [], "compose map entry"),
        ("deployment.yaml", k8s_head + ["            - name: DB_PASSWORD"], "              value: " + v.password(True),
         [], "Kubernetes env value"),
        ("deployment.yaml", k8s_head + ["            - name: MQTT_TOKEN"], '              value: "' + v.alnum(32) + '"',
         [], "Kubernetes env value, quoted"),
        ("secret.yaml", secret_head + ["stringData:"], "  mqtt-password: " + v.password(), [], "Kubernetes Secret stringData"),
        ("secret.yaml", secret_head + ["data:"],
         "  password: " + base64.b64encode(v.password().encode()).decode(), [], "Kubernetes Secret data (base64)"),
        ("group_vars.yml", ["ansible_user: deploy"], "ansible_become_pass: " + v.password(), [], "Ansible become password"),
        ("aws.yaml", ["region: eu-west-1"], "aws_secret_access_key: " + v.b64(40), [], "AWS secret access key"),
        ("oauth.yaml", ["client_id: fleet-console"], "client_secret: " + v.alnum(40), [], "OAuth client secret"),
        ("broker.yaml", [], "url: mqtts://dev:" + v.password() + "@broker.fleet.internal:8883", [], "password in a URL"),
        ("ci.yml", ["jobs:", "  deploy:", "    env:"], "      GH_TOKEN: " + GHP + v.alnum(36), [], "GitHub token in CI"),
        ("tls.yaml", ["tls:", "  private_key: |"], "    " + v.pem_lines("EC " + PEM_KEY)[0],
         ["    " + l for l in v.pem_lines("EC " + PEM_KEY)[1:]], "PEM key in a block scalar"),
    ]:
        c.one(cat, name, S, before, line, after, what)
    for name, before, line, after, what in [
        ("config.yaml", app_head, "  password: ${DB_PASSWORD}", [], "${VAR} reference"),
        ("config.yaml", app_head, '  password: "{{ vault_db_password }}"', [], "template reference"),
        ("vault.yml", [], "db_password: !vault |",
         ["  $ANSIBLE_VAULT;1.1;AES256", "  " + v.hex(64), "  " + v.hex(64)], "Ansible Vault ciphertext"),
        ("deployment.yaml", k8s_head + ["            - name: DB_PASSWORD"], "              valueFrom:",
         ["                secretKeyRef:", "                  name: db", "                  key: password"], "secretKeyRef"),
        ("deployment.yaml", k8s_head, "          - secretName: db-credentials", [], "name of a Secret"),
        ("secrets.enc.yaml", [], "password: ENC[AES256_GCM,data:" + v.b64(24) + ",iv:" + v.b64(16) + ",tag:" + v.b64(22) + "==,type:str]",
         ["sops:", "  version: 3.8.1"], "sops-encrypted value"),
        ("config.yaml", app_head, "  password: ~", [], "null value"),
        ("config.yaml", app_head, "  password: changeme", [], "placeholder"),
        ("config.yaml", app_head, "  token_ttl: 3600", [], "token lifetime"),
        ("config.yaml", app_head, "  password_min_length: 12", [], "policy setting"),
        ("config.yaml", app_head, "  api_token: op://fleet/mqtt/token", [], "1Password reference"),
        ("pnpm-lock.yaml", ["lockfileVersion: '6.0'", "packages:", "  /mqtt@5.3.0:"],
         "    resolution: {integrity: sha512-" + v.b64(86) + "==}", [], "lock-file integrity hash"),
        ("deployment.yaml", k8s_head, "          image: armored/gateway@sha256:" + v.hex(64), [], "image digest"),
        ("config.yaml", ["defaults: &defaults", "  password: *default_password"], "  user: gw", [], "YAML alias"),
    ]:
        c.one(cat, name, L, before, line, after, what)


# --- INI, properties, TOML, conf ---------------------------------------------

def ini_properties(c):
    v = c.v
    cat = "ini-properties"
    S, L = SECRET, LOOKALIKE
    for name, before, line, after, what in [
        ("broker.ini", ["[broker]", "host = broker.fleet.internal"], "password = " + v.password(True), ["port = 8883"],
         "INI password with '#' inside"),
        ("my.cnf", ["[client]", "user=telemetry"], "password=" + v.password(), [], "MySQL client password"),
        ("application.properties", ["spring.datasource.url=jdbc:postgresql://db/telemetry"],
         "spring.datasource.password=" + v.password(True), [], "Spring properties password"),
        ("gateway.properties", ["mqtt.host=broker.fleet.internal"], "mqtt.password: " + v.password(), [], "properties with ':'"),
        (".pypirc", ["[pypi]", "username = __token__"], "password = pypi-" + v.alnum(60), [], "PyPI upload token"),
        ("bridge.conf", ["connection cloud", "address broker.fleet.internal:8883", "remote_username gw01"],
         "remote_password " + v.password(), [], "Mosquitto bridge password"),
        ("settings.toml", ["[mqtt]"], 'password = "' + v.password() + '"', [], "TOML password"),
        ("settings.toml", ["[api]"], "token = '" + v.alnum(32) + "'", [], "TOML token"),
        ("settings.cfg", ["[database]"], "url = postgresql://app:" + v.password() + "@db.fleet.internal/telemetry", [],
         "password in a database URL"),
        ("settings.cfg", ["[app]"], "secret_key = " + v.b64(50), [], "framework secret key"),
        ("hostapd.conf", ["interface=wlan0", "ssid=fleet-ap"], "wpa_passphrase=" + v.password(), [], "Wi-Fi passphrase"),
        ("uploader.ini", ["[upload]"], "api_key=" + v.alnum(32), [], "API key"),
    ]:
        c.one(cat, name, S, before, line, after, what)
    for name, before, line, after, what in [
        ("broker.ini", ["[broker]"], "password =", [], "empty value"),
        ("broker.ini", ["[broker]"], "password = changeme", [], "placeholder"),
        ("broker.ini", ["[broker]"], "password = %(DB_PASSWORD)s", [], "interpolation"),
        ("application.properties", [], "spring.datasource.password=${DB_PASSWORD}", [], "${VAR} reference"),
        ("application.properties", [], "db.password=ENC(" + v.b64(32) + ")", [], "jasypt-encrypted value"),
        ("mosquitto.conf", ["listener 8883"], "password_file /etc/mosquitto/passwd", [], "path to a password file"),
        ("security.ini", ["[policy]"], "min_password_length = 12", [], "policy setting"),
        ("Cargo.lock", ["[[package]]", 'name = "ring"', 'version = "0.17.8"'], 'checksum = "' + v.hex(64) + '"', [],
         "lock-file checksum"),
        ("poetry.lock", ["[[package]]", 'name = "paho-mqtt"'],
         'files = [{file = "paho_mqtt-2.1.0.tar.gz", hash = "sha256:' + v.hex(64) + '"}]', [], "lock-file hash"),
        ("mosquitto.conf", ["listener 8883"], "allow_anonymous false", [], "boolean setting"),
    ]:
        c.one(cat, name, L, before, line, after, what)


# --- shell, systemd units, Dockerfiles, Makefiles -----------------------------

def shell_systemd_docker(c):
    v = c.v
    cat = "shell-systemd-docker"
    S, L = SECRET, LOOKALIKE
    sh = ["#!/bin/sh", "set -eu"]
    unit = ["[Unit]", "Description=Armored gateway", "", "[Service]", "ExecStart=/usr/bin/armored gateway"]
    docker = ["FROM debian:bookworm-slim", "RUN apt-get update && apt-get install -y ca-certificates"]
    for name, before, line, after, what in [
        ("deploy.sh", sh, "export MQTT_PASSWORD=" + v.password(True), ["exec armored gateway"], "shell export"),
        (".bashrc", ["alias ll='ls -l'"], "export GITHUB_TOKEN=" + GHP + v.alnum(36), [], "token in a shell start-up file"),
        ("run.sh", sh, "docker run -e DB_PASSWORD=" + v.password() + " armored/cloud:1.4", [], "docker run -e"),
        ("upload.sh", sh, "uploader --api-token=" + v.alnum(32) + " --host cloud.fleet.internal", [], "--flag=value"),
        ("Dockerfile", docker, "ENV DB_PASSWORD=" + v.password(True), ["CMD [\"armored\", \"cloud\"]"], "Dockerfile ENV"),
        ("Dockerfile", docker, "ARG NPM_TOKEN=" + NPM + v.alnum(36), [], "Dockerfile ARG"),
        ("Dockerfile.gateway", docker, "ENV MQTT_PASS " + v.password(), [], "Dockerfile legacy ENV"),
        ("armored-gateway.service", unit, "Environment=MQTT_PASS=" + v.password(True), [], "systemd Environment="),
        ("armored-cloud.service", unit, 'Environment="DB_PASSWORD=' + v.password() + '" "LOG_LEVEL=info"', [],
         "systemd Environment= quoted"),
        ("Makefile", ["REGISTRY ?= registry.fleet.internal"], "DEPLOY_TOKEN ?= " + v.alnum(32), ["", "deploy:", "\t./deploy.sh"],
         "Makefile variable"),
        (".envrc", [], "export AWS_SECRET_ACCESS_KEY=" + v.b64(40), [], "direnv file"),
        ("backup.sh", sh, "PGPASSWORD=" + v.password() + " pg_dump -h db.fleet.internal telemetry > dump.sql", [],
         "variable before a command"),
        ("fetch.sh", sh, "wget --password=" + v.password() + " https://files.fleet.internal/fw.bin", [], "--password=value"),
        ("provision.sh", sh, "curl -s https://gw01:" + v.password() + "@provision.fleet.internal/enroll", [],
         "password in a URL"),
    ]:
        c.one(cat, name, S, before, line, after, what)
    for name, before, line, after, what in [
        ("deploy.sh", sh, 'export MQTT_PASSWORD="$(cat /run/secrets/mqtt)"', [], "read from a file at run time"),
        ("deploy.sh", sh, 'export DB_PASSWORD="${DB_PASSWORD:?set DB_PASSWORD}"', [], "required ${VAR}"),
        ("Dockerfile", docker, "ENV DB_PASSWORD_FILE=/run/secrets/db_password", [], "path to a Docker secret"),
        ("Dockerfile", docker, "ARG NPM_TOKEN", [], "build argument without a value"),
        ("armored-gateway.service", unit, "LoadCredential=mqtt-pass:/etc/armored/mqtt.pass", [], "systemd credential"),
        ("armored-gateway.service", unit, "EnvironmentFile=/etc/armored/gateway.env", [], "environment file path"),
        ("login.sh", sh, 'read -r -s -p "Password: " DB_PASSWORD', [], "prompt"),
        ("run.sh", sh, "docker run -e DB_PASSWORD armored/cloud:1.4", [], "pass-through variable"),
        ("verify.sh", sh, 'echo "' + v.hex(64) + '  fw.bin" | sha256sum -c -', [], "checksum"),
        ("armored-gateway.service", unit, "Environment=MQTT_PASS=%d/mqtt-pass", [], "systemd credential directory"),
    ]:
        c.one(cat, name, L, before, line, after, what)


# --- C and C++ firmware sources ------------------------------------------------

def source_c(c):
    v = c.v
    cat = "source-c"
    S, L = SECRET, LOOKALIKE
    head = ["#include <stdint.h>", "#include \"mqtt_client.h\"", ""]
    for name, line, what in [
        ("main.c", 'static const char *mqtt_password = "' + v.password() + '";', "password literal"),
        ("wifi.h", '#define WIFI_PASSWORD "' + v.password() + '"', "#define password"),
        ("cloud.h", '#define API_KEY "' + v.alnum(32) + '"', "#define API key"),
        ("aws.c", 'const char aws_id[] = "' + AKIA + v.upper32(16) + '";', "AWS access key id"),
        ("uplink.cpp", '  std::string token{"' + v.alnum(32) + '"};', "C++ token"),
        ("broker.c", 'const char *url = "mqtts://gw:' + v.password() + '@broker.fleet.internal:8883";', "password in a URL"),
        ("config.c", '  .password = "' + v.password() + '",', "designated initializer"),
        ("keys.c", 'static const char device_key_b64[] = "' + v.b64(44) + '";', "random key literal"),
        ("ci.cpp", '  const char* ci_token = "' + GHP + v.alnum(36) + '";', "GitHub token"),
    ]:
        c.one(cat, name, S, head, line, ["", "int app_main(void) { return 0; }"], what)
    key = v.pem_lines("EC " + PEM_KEY)
    c.one(cat, "device_key.c", S, head, 'static const char device_key_pem[] = "' + "\\n".join(key) + '\\n";', [],
          "PEM key in a C string")
    for name, line, what in [
        ("main.c", 'static const char *wifi_password = "changeme";', "placeholder"),
        ("main.c", 'static const char *mqtt_pass = "";', "empty"),
        ("main.c", '#define TOKEN_PLACEHOLDER "<token>"', "placeholder"),
        ("main.c", 'const char *password_prompt = "Enter password: ";', "prompt"),
        ("main.c", '  const char *password = getenv("MQTT_PASSWORD");', "read from the environment"),
        ("main.c", '  const char *commit = "' + v.hex(40) + '";', "commit hash"),
        ("main.c", '  const char *server_public_key = "' + v.b64(44) + '";', "public key"),
        ("main.c", '  const char *cert_fingerprint = "' + v.hex(64) + '";', "certificate fingerprint"),
        ("main.c", '  const char *doc = "mqtt://user:password@localhost:1883";', "documentation URL"),
        ("main.c", '  const char *aws_doc_id = "' + AKIA + "IOSFODNN7" + "EXAMPLE" + '";', "AWS documentation key"),
    ]:
        c.one(cat, name, L, head, line, [], what)
    c.add(cat, "hmac_vectors.c", L, head + ["/* RFC 4231 test vector, case 2 */",
                                           'static const char hmac_key[] = "' + v.hex(40) + '";'], len(head) + 1,
          "published test vector, marked")


# --- Python sources (also the bandit comparison) -------------------------------

def source_python(c):
    v = c.v
    cat = "source-python"
    S, L = SECRET, LOOKALIKE
    head = ["import os", "import paho.mqtt.client as mqtt", ""]
    for line, what in [
        ('MQTT_PASS = "' + v.password() + '"', "module constant"),
        ('client.username_pw_set("sensor01", "' + v.password() + '")', "paho username_pw_set"),
        ('conn = psycopg2.connect(host="db", user="app", password="' + v.password() + '")', "keyword argument"),
        ('def connect(host, token="' + v.alnum(32) + '"):', "default argument"),
        ('SECRET_KEY = "' + v.b64(50) + '"', "framework secret key"),
        ('stripe.api_key = "' + SK_LIVE + v.alnum(24) + '"', "Stripe live key"),
        ('SLACK = "' + XOXB + str(v.rng.randrange(10**11, 10**12)) + "-" + v.alnum(24) + '"', "Slack token"),
        ('s3 = boto3.client("s3", aws_secret_access_key="' + v.b64(40) + '")', "AWS secret key argument"),
        ('DSN = "postgresql://app:' + v.password() + '@db.fleet.internal/telemetry"', "password in a URL"),
        ('    api_key: str = "' + v.alnum(32) + '"', "annotated settings field"),
        ('token = b"' + v.alnum(32) + '"', "bytes literal"),
        ('config = {"mqtt_password": "' + v.password() + '"}', "dictionary entry"),
    ]:
        c.one(cat, "app.py", S, head, line, ["", "client = mqtt.Client()"], what)
    for line, what in [
        ('password = os.environ["DB_PASSWORD"]', "read from the environment"),
        ('api_key = os.getenv("API_KEY", "")', "read from the environment"),
        ('token = "${API_TOKEN}"', "${VAR} reference"),
        ('secret = "xxxxxxxxxxxx"', "masked value"),
        ('password = "<password>"', "placeholder"),
        ('password = ""', "empty"),
        ('token_type = "Bearer"', "token type"),
        ('password_hash = "' + v.hex(64) + '"', "hash of a password"),
        ('PASSWORD_FIELD = "password"', "form field name"),
        ('password = input("Password: ")', "prompt"),
        ('api_key = settings.API_KEY', "read from settings"),
        ('DEFAULT_TOKEN = None', "no value"),
    ]:
        c.one(cat, "app.py", L, head, line, [], what)
    c.add(cat, "test_hmac.py", L, head + ["# RFC 4231 test vector, case 2", 'secret_key = "' + v.hex(40) + '"'],
          len(head) + 1, "published test vector, marked")


# --- JS/TS, Go, Java, JSON, Terraform ------------------------------------------

def source_other(c):
    v = c.v
    cat = "source-other"
    S, L = SECRET, LOOKALIKE
    for name, before, line, after, what in [
        ("client.js", ["const mqtt = require('mqtt');"], "const apiKey = '" + v.alnum(32) + "';", [], "JS constant"),
        ("client.js", ["const opts = {", "  username: 'gw01',"], "  password: '" + v.password() + "',", ["};"], "JS object"),
        ("main.go", ["opts := mqtt.NewClientOptions()", "cfg := Config{"], '\tPassword: "' + v.password() + '",', ["}"], "Go struct field"),
        ("Db.java", ["public final class Db {"], '  private static final String DB_PASSWORD = "' + v.password() + '";', ["}"],
         "Java constant"),
        ("config.json", ["{", '  "host": "broker.fleet.internal",'], '  "password": "' + v.password() + '",', ['  "port": 8883', "}"],
         "JSON password"),
        ("service-account.json", ["{", '  "type": "service_account",'], '  "private_key_id": "' + v.hex(40) + '",', ["}"],
         "GCP service account key"),
        ("task-definition.json", ['{"containerDefinitions": [{"environment": ['],
         '  {"name": "DB_PASSWORD", "value": "' + v.password() + '"},', ["]}]}"], "ECS environment entry"),
        ("main.tf", ['resource "aws_db_instance" "telemetry" {', '  username = "app"'],
         '  password = "' + v.password() + '"', ["}"], "Terraform password"),
        (".npmrc", [], "//registry.npmjs.org/:_authToken=" + NPM + v.alnum(36), [], "npm token"),
        ("ci.ts", [], "const gh = '" + GHP + v.alnum(36) + "';", [], "GitHub token"),
        ("notify.js", [], "const hook = 'https://hooks.slack.com/services/T" + v.upper32(8) + "/B" + v.upper32(8) + "/" +
         v.alnum(24) + "';", [], "Slack webhook"),
        ("Storage.cs", [], 'var conn = "DefaultEndpointsProtocol=https;AccountName=telemetry;Account' + 'Key=' + v.b64(86) +
         '==;EndpointSuffix=core.windows.net";', [], "Azure storage key"),
        ("maps.js", [], "const mapsKey = '" + AIZA + v.alnum(35) + "';", [], "Google API key"),
    ]:
        c.one(cat, name, S, before, line, after, what)
    for name, before, line, after, what in [
        ("package-lock.json", ["{", '  "packages": {', '    "node_modules/mqtt": {'],
         '      "integrity": "sha512-' + v.b64(86) + '==",', ["    }", "  }", "}"], "lock-file integrity hash"),
        ("go.sum", [], "golang.org/x/crypto v0.17.0 h1:" + v.b64(43) + "=", [], "Go module checksum"),
        ("config.json", ["{"], '  "password": "",', ['  "port": 8883', "}"], "empty"),
        ("config.json", ["{"], '  "password": "${DB_PASSWORD}",', ["}"], "${VAR} reference"),
        ("client.js", [], "const apiKey = process.env.API_KEY;", [], "read from the environment"),
        ("client.js", [], "const opts = { password: config.password };", [], "read from configuration"),
        ("oauth.json", ["{"], '  "token_type": "bearer",', ["}"], "token type"),
        ("Db.java", [], '  String pw = System.getenv("DB_PASSWORD");', [], "read from the environment"),
        ("main.tf", ['resource "aws_db_instance" "telemetry" {'], "  password = var.db_password", ["}"], "Terraform variable"),
        ("keys.json", ["{"], '  "publicKey": "' + v.b64(44) + '",', ["}"], "public key"),
        ("yarn.lock", ['mqtt@^5.3.0:', '  version "5.3.0"'], '  integrity sha512-' + v.b64(86) + '==', [], "lock-file integrity hash"),
    ]:
        c.one(cat, name, L, before, line, after, what)


# --- vendor token formats where no name says "credential" -------------------------

def token_shapes(c):
    """The ground secretlint's preset covers: tokens recognised by their
    published prefix, pasted where no variable name gives them away."""
    v = c.v
    cat = "token-shapes"
    S, L = SECRET, LOOKALIKE
    b64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    # A 1Password service-account token is base64 JSON ending in an object
    # ("...}}" encodes to "...fQ=="); pad the key until it does.
    pad = ""
    while True:
        doc = {"signInAddress": "fleet.1password.com", "email": v.alnum(12).lower() + "@1passwordserviceaccounts.com",
               "secretKey": v.alnum(40) + pad, "muk": {"alg": "A256GCM", "k": v.b64(43)}}
        ops = "ops_" + base64.b64encode(json.dumps(doc, separators=(",", ":")).encode()).decode()
        if ops.endswith("fQ==") or ops.endswith("fQ="):
            break
        pad += "A"
    for name, before, line, what in [
        ("README.md", ["## Mirror", ""], "The mirror job authenticates with `glpat-" + v._pick(b64url, 20) + "`.", "GitLab token in prose"),
        ("ask.sh", ["#!/bin/sh"], 'curl -H "x-api-key: sk-ant-api03-' + v._pick(b64url, 93) + 'AA" https://api.anthropic.com/v1/messages',
         "Anthropic key in a header"),
        ("model.py", ["from huggingface_hub import login"], 'login("hf_' + v._pick(letters, 34) + '")', "Hugging Face token, positional"),
        ("llm.py", ["from groq import Groq"], 'client = Groq("gsk_' + v.alnum(52) + '")', "Groq key, positional"),
        ("issues.js", ["const headers = {"], '  Authorization: "lin_api_' + v.alnum(40) + '",', "Linear key in a header"),
        ("jobs.yaml", ["tokens:"], "  - dapi" + v.hex(32), "Databricks token in a list"),
        ("design.json", ["{"], '  "figma": "figd_' + v._pick(b64url, 43) + '",', "Figma token"),
        ("dash.go", ["package main"], 'var client = grafana.New("glsa_' + v.alnum(32) + "_" + v.hex(8) + '")', "Grafana service account token"),
        ("metrics.md", ["# Metrics"], "Push with glc_" + v.b64(64) + "= as the password.", "Grafana Cloud token in prose"),
        ("unseal.sh", ["#!/bin/sh"], "vault login hvs." + v._pick(b64url, 95), "Vault token on a command line"),
        ("push.sh", ["#!/bin/sh"], "docker login -u fleetci -p dckr_pat_" + v._pick(b64url, 27), "Docker Hub token, short flag"),
        ("shop.rb", ["require 'shopify_api'"], 'session = ShopifyAPI::Auth::Session.new(shop: "fleet.myshopify.com", access_token_value: "shpat_' +
         v.hex(32) + '")', "Shopify token"),
        ("Mail.cs", ["using SendGrid;"], 'var client = new SendGridClient("SG.' + v._pick(b64url, 22) + "." + v._pick(b64url, 43) + '");',
         "SendGrid key, positional"),
        ("notes.ts", ["import { Client } from '@notionhq/client';"], "const notion = new Client({ auth: 'ntn_" +
         "".join(v.rng.choice("0123456789") for _ in range(11)) + v.alnum(35) + "' });", "Notion token"),
        ("chat.py", ["from openai import OpenAI"], 'client = OpenAI("sk-proj-' + v._pick(b64url, 74) + "T3Blbk" + "FJ" +
         v._pick(b64url, 74) + '")', "OpenAI project key, positional"),
        ("ci.yml", ["steps:", "  - run: op read op://ci/db/password", "    env:"], "      OP: " + ops, "1Password service account token"),
        ("slack.txt", ["socket mode app token:"], "xapp-1-A" + v.upper32(10) + "-" + str(v.rng.randrange(10**12, 10**13)) + "-" + v.hex(64),
         "Slack app-level token"),
        ("gh.js", ["const { Octokit } = require('@octokit/rest');"], "const octokit = new Octokit({ auth: 'github_pat_" +
         v._pick(b64url.replace("-", ""), 82) + "' });", "GitHub fine-grained token"),
        ("db.js", ["const mongoose = require('mongoose');"], "mongoose.connect('mongodb+srv://app:" + v.password() +
         "@cluster0.fleet.mongodb.net/telemetry');", "password in a MongoDB URL"),
        ("deploy.yml", ["steps:"], "  - run: vercel deploy --prod --token vcp_" + v.alnum(40), "Vercel token"),
    ]:
        c.one(cat, name, S, before, line, [], what)
    for name, before, line, what in [
        ("README.md", ["## Mirror"], "Create a token (it looks like `glpat-xxxxxxxxxxxxxxxxxxxx`) and store it in CI.", "documentation placeholder"),
        ("README.md", ["## CI"], "export GITHUB_TOKEN=" + GHP + "x" * 36, "documentation placeholder"),
        ("policy.json", ["{", '  "Principal": {'], '    "AWS": "AIDA' + v.upper32(17)[:16] + '"', "IAM user unique id, not a credential"),
        ("db.js", [], "mongoose.connect('mongodb://db.fleet.internal:27017/telemetry');", "URL without credentials"),
        ("db.js", [], "mongoose.connect(`mongodb://app:${process.env.MONGO_PASSWORD}@db.fleet.internal/telemetry`);",
         "URL with a ${VAR} password"),
        ("model.py", [], 'TOKENIZER = "hf_internal_testing_tokenizer_config"', "identifier with a vendor-like prefix"),
    ]:
        c.one(cat, name, L, before, line, [], what)


# --- firmware images -----------------------------------------------------------

def _image(v, strings, utf16=()):
    """A firmware-like image: a header, random code-like bytes, NUL-terminated
    strings at scattered offsets."""
    rng = v.rng
    out = bytearray(b"\x7fFW\x01" + bytes(60))
    for s in strings:
        out += bytes(rng.randrange(256) for _ in range(rng.randrange(200, 600)))
        out += b"\x00" + s.encode() + b"\x00"
    for s in utf16:
        out += bytes(rng.randrange(256) for _ in range(300)) + b"\x00\x00" + s.encode("utf-16-le") + b"\x00\x00"
    out += bytes(rng.randrange(256) for _ in range(512))
    return bytes(out)


def _der_key(tmp):
    """A DER PKCS#8 EC key from the openssl CLI (None when it is missing)."""
    path = os.path.join(tmp, "k.der")
    try:
        subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-outform", "DER", "-out", path], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    with open(path, "rb") as f:
        return f.read()


def _elf(tmp, name, c_source):
    """Compiles a small program with cc; None when no compiler is installed."""
    src = os.path.join(tmp, name + ".c")
    out = os.path.join(tmp, name)
    with open(src, "w") as f:
        f.write(c_source)
    try:
        subprocess.run(["cc", "-O0", "-o", out, src], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    with open(out, "rb") as f:
        return f.read()


def firmware(c, tmp):
    v = c.v
    cat = "firmware"
    S, L = SECRET, LOOKALIKE
    banner = ["armored demo firmware v1.2", "mqtt: connect failed (%d)", "wifi: got ip %s"]
    for name, strings, utf16, what in [
        ("gw.bin", banner + ["mqtts://dev:" + v.password() + "@broker.fleet.internal:8883"], [], "password in a URL"),
        ("gw-env.bin", banner + ["DB_PASSWORD=" + v.password(True)], [], "dotenv block with '#' inside"),
        ("sensor.bin", banner + ["wifi_pass=" + v.password()], [], "key=value string"),
        ("cloud.bin", banner + [AKIA + v.upper32(16)], [], "AWS access key id"),
        ("tls.bin", banner + ["\n".join(v.pem_lines("RSA " + PEM_KEY))], [], "PEM private key"),
        ("win.bin", banner, ["password=" + v.password()], "UTF-16LE key=value string"),
        ("cfg.bin", banner + ['{"mqtt_password":"' + v.password() + '","port":8883}'], [], "embedded JSON config"),
        ("ota.bin", banner + ["ota_token=" + GHP + v.alnum(36)], [], "GitHub token"),
    ]:
        c.add_binary(cat, name, S, _image(v, strings, utf16), what)
    der = _der_key(tmp)
    if der:
        img = bytearray(_image(v, banner))
        img[200:200] = der
        c.add_binary(cat, "keys.bin", S, bytes(img), "DER PKCS#8 EC private key")
    elf = _elf(tmp, "fw", '#include <stdio.h>\n'
               'const char *broker = "mqtt://fw:' + v.password() + '@broker.fleet.internal:1883";\n'
               'const char *cfg = "api_key=' + v.alnum(26) + '";\n'
               'int main(void) { puts(broker); puts(cfg); return 0; }\n')
    if elf:
        c.add_binary(cat, "fw.elf", S, elf, "compiled ELF with a URL password and an api_key string")
    for name, strings, what in [
        ("fmt.bin", banner + ["password=%s", "mqtt password: %.*s", "Enter password:"], "format strings and prompts"),
        ("hash.bin", banner + [v.hex(64), "sha256=" + v.hex(64)], "digests"),
        ("cert.bin", banner + ["\n".join([DASHES + "BEGIN CERTIFICATE" + DASHES] + [v.b64(64)] * 3 + [DASHES + "END CERTIFICATE" + DASHES])],
         "a certificate, public"),
        ("url.bin", banner + ["mqtts://broker.fleet.internal:8883", "https://ota.fleet.internal/fw"], "URLs without credentials"),
        ("ref.bin", banner + ["DB_PASSWORD=${DB_PASSWORD}", "MQTT_PASS=changeme"], "references and placeholders"),
    ]:
        c.add_binary(cat, name, L, _image(v, strings), what)
    elf = _elf(tmp, "clean", '#include <stdio.h>\n#include <string.h>\n'
               'int main(int argc, char **argv) { char pw[64]; printf("password: "); '
               'if (argc > 1) strncpy(pw, argv[1], sizeof pw - 1); puts("mqtts://broker.fleet.internal:8883"); return 0; }\n')
    if elf:
        c.add_binary(cat, "clean.elf", L, elf, "compiled ELF with a prompt and a URL, no credential")


# --- `audit code`: disabled certificate verification in Python ---------------------

def python_tls(c):
    cat = "python-tls"
    S, L = SECRET, LOOKALIKE  # SECRET here means "a finding is expected"
    head = ["import ssl", "import requests", "import httpx", "import urllib3", "from OpenSSL import SSL", ""]
    for line, what in [
        ("r = requests.get(url, verify=False)", "requests verify=False"),
        ("r = requests.post(url, json=payload, verify=False, timeout=5)", "requests verify=False among other arguments"),
        ("client = httpx.Client(verify=False)", "httpx verify=False"),
        ("ctx = ssl._create_unverified_context()", "unverified context"),
        ("ctx.verify_mode = ssl.CERT_NONE", "CERT_NONE"),
        ("ctx.check_hostname = False", "host-name check off"),
        ("s = ssl.wrap_socket(sock, ssl_version=ssl.PROTOCOL_TLSv1)", "TLS 1.0 pinned"),
        ("ctx = ssl.SSLContext(ssl.PROTOCOL_SSLv3)", "SSL 3 pinned"),
        ("ctx = SSL.Context(SSL.TLSv1_METHOD)", "pyOpenSSL TLS 1.0 method"),
        ("ctx.minimum_version = ssl.TLSVersion.TLSv1", "minimum version TLS 1.0"),
        ("client.tls_insecure_set(True)", "paho insecure"),
        ("client.tls_set(ca_certs=None, cert_reqs=ssl.CERT_NONE)", "paho CERT_NONE"),
        ("s = ssl.wrap_socket(sock)", "wrap_socket without cert_reqs verifies nothing"),
        ("def connect(host, proto=ssl.PROTOCOL_TLSv1_1):", "TLS 1.1 as a default argument"),
        ('http = urllib3.PoolManager(cert_reqs="CERT_NONE")', "urllib3 CERT_NONE"),
        ("session.verify = False", "requests session verify off"),
    ]:
        c.one(cat, "client.py", S, head, line, [], what)
    for line, what in [
        ("r = requests.get(url, verify=True)", "verification on"),
        ('r = requests.get(url, verify="/etc/armored/ca.pem")', "verification with a CA file"),
        ("ctx = ssl.create_default_context(cafile=CA_FILE)", "default context"),
        ("ctx.check_hostname = True", "host-name check on"),
        ("ctx.verify_mode = ssl.CERT_REQUIRED", "CERT_REQUIRED"),
        ("ctx.minimum_version = ssl.TLSVersion.TLSv1_2", "minimum TLS 1.2"),
        ("ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)", "negotiated client context"),
        ("# never pass verify=False: the gateway must check the cloud", "a comment"),
        ('log.error("refusing to run with verify=False")', "a message about it"),
        ("ctx = SSL.Context(SSL.TLS_METHOD)", "pyOpenSSL negotiated method"),
        ("s = ssl.wrap_socket(sock, cert_reqs=ssl.CERT_REQUIRED, ca_certs=CA_FILE)", "wrap_socket verifying"),
        ("client.tls_insecure_set(False)", "paho secure"),
    ]:
        c.one(cat, "client.py", L, head, line, [], what)
    c.add(cat, "client.py", L, head + ['def connect():', '    """Never use ssl.CERT_NONE here."""', "    return ctx"],
          len(head) + 1, "a docstring")


def build(root, tmp):
    """Builds the corpus under `root` (emptied first); returns the cases."""
    if os.path.exists(root):
        shutil.rmtree(root)
    os.makedirs(root)
    c = Corpus(root)
    dotenv(c)
    yaml_compose_k8s(c)
    ini_properties(c)
    shell_systemd_docker(c)
    source_c(c)
    source_python(c)
    source_other(c)
    token_shapes(c)
    firmware(c, tmp)
    python_tls(c)
    with open(os.path.join(root, "manifest.json"), "w") as f:
        json.dump([asdict(x) for x in c.cases], f, indent=1)
    return c.cases
