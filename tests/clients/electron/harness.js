"use strict";
// Test harness for driving the real `electron-updater` package headless (plain Node, no Electron
// binary) against the real `updater` server binary. Only transport and app plumbing are replaced;
// the feed, the update decision, staging and the sha512 check are electron-updater's own code.

const assert = require("node:assert/strict");
const { spawn } = require("node:child_process");
const crypto = require("node:crypto");
const fs = require("node:fs");
const http = require("node:http");
const https = require("node:https");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");

const { AppImageUpdater } = require("electron-updater");
const { ElectronHttpExecutor } = require("electron-updater/out/electronHttpExecutor");
const { UUID } = require("builder-util-runtime");

const ADMIN_KEY = "test-admin-key-0123456789abcdef0123456789";

// ---------------------------------------------------------------------------------------------
// Transport: electron-updater's own ElectronHttpExecutor (its `download()` builds the sha512
// DigestTransform pipeline), with only the request factory swapped from `electron.net` to Node's
// http/https. This mirrors electron-builder's own updater tests (NodeHttpExecutor).
class NodeHttpExecutor extends ElectronHttpExecutor {
  constructor() {
    super(null);
  }

  createRequest(options, callback) {
    const { redirect: _ignored, ...rest } = options;
    // agent: false -> one connection per request, like electron.net's uncached session; avoids
    // HttpExecutor stacking socket timeout listeners on keep-alive sockets.
    return (rest.protocol === "http:" ? http : https).request({ ...rest, agent: false }, callback);
  }

  // Node's http client emits no "redirect" event; HttpExecutor follows `location` itself.
  addRedirectHandlers() {}
}

// ---------------------------------------------------------------------------------------------
// App adapter: what `ElectronAppAdapter` would answer inside a packaged Electron app.
class TestAppAdapter {
  constructor({ version, root, name = "demo" }) {
    this._version = version;
    this._name = name;
    this.root = root;
  }
  get version() {
    return this._version;
  }
  get name() {
    return this._name;
  }
  get isPackaged() {
    return true;
  }
  // process.resourcesPath/app-update.yml in a packaged app
  get appUpdateConfigPath() {
    return path.join(this.root, "resources", "app-update.yml");
  }
  get userDataPath() {
    return path.join(this.root, "userData");
  }
  get baseCachePath() {
    return path.join(this.root, "cache");
  }
  whenReady() {
    return Promise.resolve();
  }
  relaunch() {
    throw new Error("relaunch() must not be called in tests");
  }
  quit() {
    throw new Error("quit() must not be called in tests");
  }
  onQuit() {}
}

class MemoryLogger {
  constructor() {
    this.lines = [];
  }
  info(m) {
    this.lines.push(`info: ${m}`);
  }
  warn(m) {
    this.lines.push(`warn: ${m}`);
  }
  error(m) {
    this.lines.push(`error: ${m}`);
  }
  debug(m) {
    this.lines.push(`debug: ${m}`);
  }
  toString() {
    return this.lines.join("\n");
  }
}

/**
 * A fresh "installed app": its own resources/app-update.yml (generic provider), userData
 * (optionally with a pre-written `.updaterId`) and cache dir. Returns a real AppImageUpdater.
 */
function createUpdater({ feedUrl, version, channel, stagingId, tmpRoot }) {
  const root = fs.mkdtempSync(path.join(tmpRoot, `app-${version}-`));
  const app = new TestAppAdapter({ version, root });
  fs.mkdirSync(path.dirname(app.appUpdateConfigPath), { recursive: true });
  // What electron-builder writes into resources/app-update.yml for `publish: {provider: generic}`.
  fs.writeFileSync(app.appUpdateConfigPath, `provider: generic\nurl: ${feedUrl}\nupdaterCacheDirName: demo-updater\n`);
  fs.mkdirSync(app.userDataPath, { recursive: true });
  if (stagingId != null) {
    assert.ok(UUID.check(stagingId), `invalid staging id ${stagingId}`);
    fs.writeFileSync(path.join(app.userDataPath, ".updaterId"), stagingId); // no newline: UUID.check
  }

  const updater = new AppImageUpdater(null, app);
  updater.httpExecutor = new NodeHttpExecutor();
  const logger = new MemoryLogger();
  updater.logger = logger;
  updater.autoDownload = false;
  updater.autoInstallOnAppQuit = false;
  // Test artifacts are random bytes, not AppImages with an embedded blockmap: go straight to the
  // full download (which is where the sha512 check under test happens).
  updater.disableDifferentialDownload = true;
  if (channel != null) {
    updater.channel = channel;
  }
  // electron-updater emits "error" on failures; an EventEmitter without a listener would throw.
  const errors = [];
  updater.on("error", e => errors.push(e));
  return { updater, app, logger, errors };
}

/** electron-updater's staging rule (AppUpdater.isStagingMatch), computed independently. */
function inStagingBucket(uuid, percentage) {
  const bytes = Buffer.from(uuid.replace(/-/g, ""), "hex");
  return bytes.readUInt32BE(12) / 0xffffffff < percentage / 100;
}

// ---------------------------------------------------------------------------------------------
// Artifact server: serves release bytes; can be switched to serve tampered bytes.
async function startArtifactServer(artifacts) {
  const state = { tampered: false, requests: [] };
  const server = http.createServer((req, res) => {
    const name = decodeURIComponent(new URL(req.url, "http://x").pathname.slice(1));
    state.requests.push({ method: req.method, name, headers: req.headers });
    const data = artifacts.get(name);
    if (data == null) {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found");
      return;
    }
    let body = data;
    if (state.tampered) {
      body = Buffer.from(data);
      body[body.length >> 1] ^= 0xff; // same size, one byte flipped
    }
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length });
    res.end(req.method === "HEAD" ? undefined : body);
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const base = `http://127.0.0.1:${server.address().port}`;
  return {
    base,
    state,
    url: name => `${base}/${encodeURIComponent(name)}`,
    close: () =>
      new Promise(resolve => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

function makeArtifact(size = 16 * 1024) {
  const data = crypto.randomBytes(size);
  return {
    data,
    size,
    sha256hex: crypto.createHash("sha256").update(data).digest("hex"),
    sha512hex: crypto.createHash("sha512").update(data).digest("hex"),
    sha512b64: crypto.createHash("sha512").update(data).digest("base64"),
  };
}

// ---------------------------------------------------------------------------------------------
// The real updater binary.
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function requireUpdaterBin() {
  const bin = process.env.UPDATER_BIN;
  if (!bin) {
    throw new Error("UPDATER_BIN is not set: export UPDATER_BIN=/path/to/updater (e.g. target/debug/updater)");
  }
  const resolved = path.resolve(bin);
  let st;
  try {
    st = fs.statSync(resolved);
  } catch {
    throw new Error(`UPDATER_BIN=${bin}: no such file (${resolved})`);
  }
  if (!st.isFile()) {
    throw new Error(`UPDATER_BIN=${bin} is not a file`);
  }
  fs.accessSync(resolved, fs.constants.X_OK);
  return resolved;
}

async function startUpdaterServer({ bin, tmpRoot }) {
  const port = await freePort();
  const dataDir = path.join(tmpRoot, "server-data");
  fs.mkdirSync(dataDir, { recursive: true });
  const configPath = path.join(tmpRoot, "updater-config.yaml");
  fs.writeFileSync(
    configPath,
    `test:
  server:
    host: 127.0.0.1
    port: ${port}
    drain_delay: 0s
  storage:
    type: sqlite
    data_dir: ${dataDir}
  security:
    allow_http_download_urls: true
    rate_limit:
      enabled: false
    api_keys:
      - name: admin
        key: ${ADMIN_KEY}
        permissions: [admin]
  logging:
    level: info
    format: json
`,
  );
  // No UPDATER_* variable of ours (UPDATER_BIN, UPDATER_CONFIG_SECTION, ...) may leak into the
  // server's configuration overrides.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("UPDATER_")));
  const child = spawn(bin, ["--config", configPath, "--section", "test", "serve"], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = chunk => {
    output = (output + chunk.toString()).slice(-64 * 1024);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  let exited = null;
  const exitPromise = new Promise(resolve =>
    child.once("exit", (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    }),
  );

  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) {
      throw new Error(`updater exited before becoming healthy (${JSON.stringify(exited)}):\n${output}`);
    }
    try {
      const r = await fetch(`${base}/health`);
      if (r.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`updater did not answer 200 on /health within 30s:\n${output}`);
    }
    await new Promise(r => setTimeout(r, 100));
  }

  async function api(method, urlPath, body) {
    const r = await fetch(base + urlPath, {
      method,
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
      body: body == null ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, text };
  }

  async function stop() {
    if (exited) return;
    child.kill("SIGTERM");
    const t = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exitPromise;
    clearTimeout(t);
  }

  return { base, port, api, stop, log: () => output, child };
}

// What every suite here starts: a temp dir, the artifact server (the CDN), an "installed"
// AppImage that APPIMAGE points at (AppImageUpdater is only active inside an AppImage), and the
// updater server. `stop()` undoes all of it.
async function startSuite({ bin, prefix, files, installed }) {
  const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const artifactServer = await startArtifactServer(files);
  const savedAppImage = process.env.APPIMAGE;
  const installedPath = path.join(tmpRoot, "Demo-1.0.0.AppImage");
  fs.writeFileSync(installedPath, installed, { mode: 0o755 });
  process.env.APPIMAGE = installedPath;
  const server = await startUpdaterServer({ bin, tmpRoot });
  async function stop() {
    await server.stop();
    await artifactServer.close();
    if (savedAppImage === undefined) delete process.env.APPIMAGE;
    else process.env.APPIMAGE = savedAppImage;
    if (!process.env.KEEP_TMP) fs.rmSync(tmpRoot, { recursive: true, force: true });
  }
  return { tmpRoot, artifactServer, server, stop };
}

module.exports = {
  ADMIN_KEY,
  NodeHttpExecutor,
  TestAppAdapter,
  createUpdater,
  inStagingBucket,
  makeArtifact,
  requireUpdaterBin,
  startArtifactServer,
  startSuite,
  startUpdaterServer,
};
