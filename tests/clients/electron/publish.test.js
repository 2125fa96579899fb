"use strict";
// `updater publish` on electron-builder's own output (tests/fixtures/build-outputs/1.2.0/electron:
// latest*.yml written by app-builder-lib), then the real npm electron-updater (AppImageUpdater,
// generic provider) finds 1.2.0 and downloads it with its sha512 check. No release JSON is written
// here: the CLI reads the yml files. Run: `npm ci && UPDATER_BIN=/path/to/updater node --test`.

const assert = require("node:assert/strict");
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");
const { describe, it, before, after } = require("node:test");

const { ADMIN_KEY, createUpdater, requireUpdaterBin, startSuite } = require("./harness");

const UPDATER_BIN = requireUpdaterBin();
const FIXTURE = path.join(__dirname, "..", "..", "fixtures", "build-outputs", "1.2.0", "electron");

describe("updater publish (electron-builder output) -> electron-updater 6.8.10", () => {
  let suite;
  let tmpRoot;
  let server;
  let artifactServer;

  before(async () => {
    const files = new Map(fs.readdirSync(FIXTURE).map(name => [name, fs.readFileSync(path.join(FIXTURE, name))]));
    suite = await startSuite({ bin: UPDATER_BIN, prefix: "updater-publish-electron-", files, installed: "installed 1.0.0" });
    ({ tmpRoot, server, artifactServer } = suite);
    const r = await server.api("POST", "/api/v1/applications", {
      id: "demo",
      name: "Demo",
      platforms: ["linux", "windows", "darwin"],
    });
    assert.equal(r.status, 201, `create app: ${r.status} ${r.text}`);
  });

  after(async () => {
    if (suite) await suite.stop();
  });

  it("publishes the yml files' release, and electron-updater finds and verifies it", async () => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("UPDATER_")));
    const run = spawnSync(
      UPDATER_BIN,
      ["publish", "--server", server.base, "--app", "demo", "--version", "1.2.0", "--json",
        "--base-url", `${artifactServer.base}/`, FIXTURE],
      { env: { ...env, UPDATER_TOKEN: ADMIN_KEY }, encoding: "utf8", timeout: 60_000 },
    );
    assert.equal(run.status, 0, `publish: ${run.stdout}\n${run.stderr}`);
    assert.ok(!run.stdout.includes(ADMIN_KEY) && !run.stderr.includes(ADMIN_KEY), "the key was printed");
    const report = JSON.parse(run.stdout);
    assert.equal(report.status, "published");

    const ctx = createUpdater({ feedUrl: `${server.base}/electron-updater/demo`, version: "1.0.0", tmpRoot });
    const result = await ctx.updater.checkForUpdates();
    assert.equal(result.isUpdateAvailable, true, String(ctx.logger));
    assert.equal(result.updateInfo.version, "1.2.0");
    const downloaded = await ctx.updater.downloadUpdate();
    assert.equal(downloaded.length, 1, String(ctx.logger));
    assert.deepEqual(fs.readFileSync(downloaded[0]), fs.readFileSync(path.join(FIXTURE, "Demo-1.2.0.AppImage")));
  });
});
