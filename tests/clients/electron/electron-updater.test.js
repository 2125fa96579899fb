"use strict";
// Drives the real npm `electron-updater` (AppImageUpdater, generic provider) against the real
// `updater` binary (env UPDATER_BIN). Run: `npm ci && UPDATER_BIN=/path/to/updater node --test`.

const assert = require("node:assert/strict");
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");
const { describe, it, before, after } = require("node:test");
const yaml = require("js-yaml");

const {
  createUpdater,
  inStagingBucket,
  makeArtifact,
  requireUpdaterBin,
  startSuite,
} = require("./harness");

// Fail the whole file at once, with one clear message, when the binary is not given.
const UPDATER_BIN = requireUpdaterBin();

const IN_ID = "00000000-0000-4000-8000-000000000001"; // 1 / 0xFFFFFFFF        -> inside 10 %
const OUT_ID = "00000000-0000-4000-8000-ffffffffffff"; // 0xFFFFFFFF / 0xFFFFFFFF -> outside 10 %
const FIXED_ID = "5f0c2a8e-3b1d-4c7a-9e21-0a1b12345678"; // 0x12345678 / 0xFFFFFFFF ~ 0.071

const ARTIFACT_NAMES = {
  "1.0.0": "demo-1.0.0.AppImage",
  "1.1.0": "demo-1.1.0.AppImage",
  "1.2.0-beta.1": "demo-1.2.0-beta.1.AppImage",
  "1.3.0": "demo-1.3.0.AppImage",
  "staged-1.0.0": "demo-staged-1.0.0.AppImage",
  "staged-1.1.0": "demo-staged-1.1.0.AppImage",
  "first-1.0.0": "demo-first-1.0.0.AppImage",
};

/** Run an electron-updater call; on failure, attach the updater's own log to the error. */
async function withLog(ctx, fn) {
  try {
    return await fn();
  } catch (e) {
    if (e && typeof e === "object" && typeof e.message === "string") {
      e.message += `\n--- electron-updater log ---\n${ctx.logger}`;
    }
    throw e;
  }
}

function sha512File(file) {
  return crypto.createHash("sha512").update(fs.readFileSync(file)).digest("base64");
}

describe("electron-updater 6.8.10 (generic provider) against the updater server", () => {
  let tmpRoot;
  let server;
  let artifactServer;
  const artifacts = new Map(); // key -> {data, sha512b64, ...}
  let suite;

  const feed = app => `${server.base}/electron-updater/${app}`;

  async function register(app, body) {
    const r = await server.api("POST", `/api/v1/updates/${app}/register`, body);
    assert.equal(r.status, 201, `register ${app} ${body.version} (${body.channel}): ${r.status} ${r.text}`);
  }

  function releaseBody(key, version, { channel = "stable", rollout, day, hexDigests = true } = {}) {
    const a = artifacts.get(key);
    const body = {
      version,
      platform: "linux",
      architecture: "amd64",
      channel,
      release_notes: `Notes for ${version}`,
      release_date: `2026-01-${String(day).padStart(2, "0")}T03:04:05Z`,
      files: [
        {
          kind: "appimage",
          url: artifactServer.url(ARTIFACT_NAMES[key]),
          size: a.size,
          sha256: a.sha256hex,
          // the spec accepts hex or base64; feed must carry base64 either way
          sha512: hexDigests ? a.sha512hex : a.sha512b64,
          blockmap_url: null,
          blockmap_size: null,
        },
      ],
    };
    if (rollout != null) body.rollout_percentage = rollout;
    return body;
  }

  before(async () => {
    for (const key of Object.keys(ARTIFACT_NAMES)) artifacts.set(key, makeArtifact());
    suite = await startSuite({
      bin: UPDATER_BIN,
      prefix: "updater-electron-",
      files: new Map(Object.entries(ARTIFACT_NAMES).map(([k, name]) => [name, artifacts.get(k).data])),
      installed: artifacts.get("1.0.0").data,
    });
    ({ tmpRoot, server, artifactServer } = suite);

    let r = await server.api("POST", "/api/v1/applications", { id: "demo", name: "Demo", platforms: ["linux"] });
    assert.equal(r.status, 201, `create app demo: ${r.status} ${r.text}`);
    r = await server.api("POST", "/api/v1/applications", { id: "demo-staged", name: "Demo Staged", platforms: ["linux"] });
    assert.equal(r.status, 201, `create app demo-staged: ${r.status} ${r.text}`);
    r = await server.api("POST", "/api/v1/applications", { id: "demo-first", name: "Demo First", platforms: ["linux"] });
    assert.equal(r.status, 201, `create app demo-first: ${r.status} ${r.text}`);

    await register("demo", releaseBody("1.0.0", "1.0.0", { day: 1 }));
    await register("demo", releaseBody("1.1.0", "1.1.0", { day: 2, hexDigests: false }));
    await register("demo", releaseBody("1.2.0-beta.1", "1.2.0-beta.1", { channel: "beta", day: 3 }));
    await register("demo", releaseBody("1.3.0", "1.3.0", { channel: "staged", rollout: 10, day: 4 }));
    await register("demo-staged", releaseBody("staged-1.0.0", "1.0.0", { day: 1 }));
    await register("demo-staged", releaseBody("staged-1.1.0", "1.1.0", { rollout: 10, day: 2 }));
    // the app's very first release is staged: no older full release to fall back to
    await register("demo-first", releaseBody("first-1.0.0", "1.0.0", { rollout: 10, day: 1 }));
  });

  after(async () => {
    if (suite) await suite.stop();
  });

  it("serves latest-linux.yml in electron-builder's format (base64 sha512, legacy path/sha512)", async () => {
    const res = await fetch(`${feed("demo")}/latest-linux.yml`);
    const text = await res.text();
    assert.equal(res.status, 200, text);
    const doc = yaml.load(text);
    const a = artifacts.get("1.1.0");
    assert.equal(doc.version, "1.1.0");
    assert.ok(Array.isArray(doc.files) && doc.files.length === 1, text);
    assert.equal(new URL(doc.files[0].url, `${feed("demo")}/`).href, artifactServer.url(ARTIFACT_NAMES["1.1.0"]));
    assert.equal(doc.files[0].sha512, a.sha512b64, "files[0].sha512 must be base64 of the artifact's SHA-512");
    assert.equal(doc.files[0].size, a.size);
    assert.equal(doc.path, doc.files[0].url, "legacy `path` mirrors files[0].url");
    assert.equal(doc.sha512, a.sha512b64, "legacy `sha512` mirrors files[0].sha512");
    assert.equal(doc.stagingPercentage, undefined, "stagingPercentage only when < 100");
    // electron-builder writes releaseDate as a quoted ISO 8601 string (UpdateInfo.releaseDate: string)
    assert.equal(typeof doc.releaseDate, "string", `releaseDate must be a quoted string:\n${text}`);
    assert.equal(new Date(doc.releaseDate).toISOString(), "2026-01-02T03:04:05.000Z");

    // sha512 registered as hex is published as base64 too
    const beta = yaml.load(await (await fetch(`${feed("demo")}/beta-linux.yml`)).text());
    assert.equal(beta.version, "1.2.0-beta.1");
    assert.equal(beta.files[0].sha512, artifacts.get("1.2.0-beta.1").sha512b64);

    // a staged release carries stagingPercentage (no x-user-staging-id sent here)
    const staged = yaml.load(await (await fetch(`${feed("demo")}/staged-linux.yml`)).text());
    assert.equal(staged.version, "1.3.0");
    assert.equal(staged.stagingPercentage, 10);
  });

  it("(1) offers 1.1.0 to an installed 1.0.0", async () => {
    const ctx = createUpdater({ feedUrl: feed("demo"), version: "1.0.0", tmpRoot });
    const result = await withLog(ctx, () => ctx.updater.checkForUpdates());
    assert.ok(result, "checkForUpdates returned null (updater inactive?)");
    assert.equal(result.isUpdateAvailable, true, String(ctx.logger));
    assert.equal(result.updateInfo.version, "1.1.0");
    assert.equal(result.updateInfo.files[0].sha512, artifacts.get("1.1.0").sha512b64);
    assert.equal(result.updateInfo.releaseNotes, "Notes for 1.1.0");
    assert.equal(result.downloadPromise, null, "autoDownload is off");
    assert.deepEqual(ctx.errors, []);
  });

  it("(2) offers nothing to an installed 1.1.0", async () => {
    const ctx = createUpdater({ feedUrl: feed("demo"), version: "1.1.0", tmpRoot });
    let notAvailable = null;
    ctx.updater.on("update-not-available", info => (notAvailable = info));
    const result = await withLog(ctx, () => ctx.updater.checkForUpdates());
    assert.equal(result.isUpdateAvailable, false, String(ctx.logger));
    assert.equal(result.updateInfo.version, "1.1.0", "stable channel must not expose the beta or staged channel");
    assert.equal(notAvailable?.version, "1.1.0");
    assert.deepEqual(ctx.errors, []);
  });

  it("(3) channel beta (beta-linux.yml) offers 1.2.0-beta.1", async () => {
    const ctx = createUpdater({ feedUrl: feed("demo"), version: "1.1.0", channel: "beta", tmpRoot });
    const result = await withLog(ctx, () => ctx.updater.checkForUpdates());
    assert.equal(result.isUpdateAvailable, true, String(ctx.logger));
    assert.equal(result.updateInfo.version, "1.2.0-beta.1");
    assert.equal(result.updateInfo.files[0].sha512, artifacts.get("1.2.0-beta.1").sha512b64);
    assert.deepEqual(ctx.errors, []);
  });

  describe("(4) staged rollout at 10 %", () => {
    it("the bucket constants follow electron-updater's rule", () => {
      assert.equal(inStagingBucket(IN_ID, 10), true);
      assert.equal(inStagingBucket(OUT_ID, 10), false);
      assert.equal(inStagingBucket(FIXED_ID, 10), true);
      assert.equal(inStagingBucket(FIXED_ID, 5), false);
    });

    async function checkStaged({ app = "demo", version = "1.1.0", channel = "staged", id }) {
      const ctx = createUpdater({ feedUrl: feed(app), version, channel, stagingId: id, tmpRoot });
      const result = await withLog(ctx, () => ctx.updater.checkForUpdates());
      assert.deepEqual(ctx.errors, [], `check for ${id} emitted errors`);
      // the client really used the pre-written id (an invalid file would be silently regenerated)
      assert.equal(fs.readFileSync(path.join(ctx.app.userDataPath, ".updaterId"), "utf8"), id);
      return { ctx, result };
    }

    it("an install inside the 10 % is offered 1.3.0", async () => {
      const { result, ctx } = await checkStaged({ id: IN_ID });
      assert.equal(result.isUpdateAvailable, true, String(ctx.logger));
      assert.equal(result.updateInfo.version, "1.3.0");
    });

    it("an install outside the 10 % is not offered 1.3.0 (and the check does not fail)", async () => {
      const { result, ctx } = await checkStaged({ id: OUT_ID });
      assert.equal(result.isUpdateAvailable, false, String(ctx.logger));
    });

    it("a fixed install id gets the same, rule-conformant answer on every check", async () => {
      const expected = inStagingBucket(FIXED_ID, 10);
      const first = await checkStaged({ id: FIXED_ID });
      const again = await withLog(first.ctx, () => first.ctx.updater.checkForUpdates());
      const restarted = await checkStaged({ id: FIXED_ID }); // new process, same userData id
      assert.equal(first.result.isUpdateAvailable, expected, String(first.ctx.logger));
      assert.equal(again.isUpdateAvailable, expected);
      assert.equal(restarted.result.isUpdateAvailable, expected);
      if (expected) {
        assert.equal(first.result.updateInfo.version, "1.3.0");
        assert.equal(again.updateInfo.version, "1.3.0");
        assert.equal(restarted.result.updateInfo.version, "1.3.0");
      }
    });

    it("with an older full release in the channel: inside gets 1.1.0, outside stays on 1.0.0", async () => {
      const inside = await checkStaged({ app: "demo-staged", version: "1.0.0", channel: null, id: IN_ID });
      assert.equal(inside.result.isUpdateAvailable, true, String(inside.ctx.logger));
      assert.equal(inside.result.updateInfo.version, "1.1.0");
      const outside = await checkStaged({ app: "demo-staged", version: "1.0.0", channel: null, id: OUT_ID });
      assert.equal(outside.result.isUpdateAvailable, false, String(outside.ctx.logger));
    });

    it("with no older release at all: outside is told 'no update' (not an error), inside gets it", async () => {
      const inside = await checkStaged({ app: "demo-first", version: "0.9.0", channel: null, id: IN_ID });
      assert.equal(inside.result.isUpdateAvailable, true, String(inside.ctx.logger));
      assert.equal(inside.result.updateInfo.version, "1.0.0");
      // A 404 here becomes ERR_UPDATER_CHANNEL_FILE_NOT_FOUND and an "error" event in every
      // install outside the rollout, on every check.
      const outside = await checkStaged({ app: "demo-first", version: "0.9.0", channel: null, id: OUT_ID });
      assert.equal(outside.result.isUpdateAvailable, false, String(outside.ctx.logger));
    });

    it("raising the rollout to 100 % (PATCH) reaches the outside install", async () => {
      const r = await server.api("PATCH", "/api/v1/updates/demo-staged/releases/1.1.0/linux/amd64", {
        rollout_percentage: 100,
      });
      assert.ok(r.status >= 200 && r.status < 300, `PATCH rollout: ${r.status} ${r.text}`);
      const outside = await checkStaged({ app: "demo-staged", version: "1.0.0", channel: null, id: OUT_ID });
      assert.equal(outside.result.isUpdateAvailable, true, String(outside.ctx.logger));
      assert.equal(outside.result.updateInfo.version, "1.1.0");
      assert.equal(outside.result.updateInfo.stagingPercentage, undefined);
    });

    it("a paused, then a yanked release is no longer offered (PATCH)", async () => {
      const patch = async body => {
        const r = await server.api("PATCH", "/api/v1/updates/demo-staged/releases/1.1.0/linux/amd64", body);
        assert.ok(r.status >= 200 && r.status < 300, `PATCH ${JSON.stringify(body)}: ${r.status} ${r.text}`);
      };
      const offered = async () => {
        const { result, ctx } = await checkStaged({ app: "demo-staged", version: "1.0.0", channel: null, id: IN_ID });
        return result.isUpdateAvailable ? result.updateInfo.version : `none (${ctx.logger.lines.at(-1)})`;
      };
      await patch({ rollout_paused: true });
      assert.match(await offered(), /^none/, "paused");
      await patch({ rollout_paused: false });
      assert.equal(await offered(), "1.1.0", "resumed");
      await patch({ yanked: true, yank_reason: "broken build" });
      assert.match(await offered(), /^none/, "yanked");
    });
  });

  describe("(5) download verifies sha512", () => {
    it("downloads 1.1.0 into the cache; bytes match the artifact", async () => {
      artifactServer.state.tampered = false;
      const ctx = createUpdater({ feedUrl: feed("demo"), version: "1.0.0", tmpRoot });
      const result = await withLog(ctx, () => ctx.updater.checkForUpdates());
      assert.equal(result.isUpdateAvailable, true, String(ctx.logger));
      let downloaded = null;
      ctx.updater.on("update-downloaded", info => (downloaded = info));
      const before = artifactServer.state.requests.length;
      const files = await withLog(ctx, () => ctx.updater.downloadUpdate());

      const expectedPath = path.join(ctx.app.baseCachePath, "demo-updater", "pending", ARTIFACT_NAMES["1.1.0"]);
      assert.deepEqual(files, [expectedPath]);
      assert.equal(sha512File(expectedPath), artifacts.get("1.1.0").sha512b64);
      assert.ok(fs.readFileSync(expectedPath).equals(artifacts.get("1.1.0").data));
      assert.equal(downloaded?.version, "1.1.0");
      assert.equal(downloaded?.downloadedFile, expectedPath);
      const gets = artifactServer.state.requests.slice(before).filter(q => q.method === "GET");
      assert.deepEqual(
        gets.map(q => q.name),
        [ARTIFACT_NAMES["1.1.0"]],
        "exactly one GET of the artifact, from the URL in the feed",
      );
      assert.deepEqual(ctx.errors, []);
    });

    it("rejects tampered bytes with ERR_CHECKSUM_MISMATCH and keeps nothing", async () => {
      const ctx = createUpdater({ feedUrl: feed("demo"), version: "1.0.0", tmpRoot });
      const result = await withLog(ctx, () => ctx.updater.checkForUpdates());
      assert.equal(result.isUpdateAvailable, true, String(ctx.logger));
      const before = artifactServer.state.requests.length;
      artifactServer.state.tampered = true;
      try {
        await assert.rejects(ctx.updater.downloadUpdate(), err => {
          assert.equal(err.code, "ERR_CHECKSUM_MISMATCH", `${err.stack}\n--- log ---\n${ctx.logger}`);
          assert.match(err.message, /^sha512 checksum mismatch/);
          return true;
        });
      } finally {
        artifactServer.state.tampered = false;
      }
      assert.ok(
        artifactServer.state.requests.slice(before).some(q => q.name === ARTIFACT_NAMES["1.1.0"]),
        "the tampered artifact was actually fetched",
      );
      const pending = path.join(ctx.app.baseCachePath, "demo-updater", "pending");
      const left = fs.existsSync(pending) ? fs.readdirSync(pending) : [];
      assert.ok(!left.includes(ARTIFACT_NAMES["1.1.0"]), `tampered file kept in cache: ${left}`);
      assert.ok(ctx.errors.some(e => e.code === "ERR_CHECKSUM_MISMATCH"), "error event emitted");
    });
  });
});
