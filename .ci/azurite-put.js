// Create a container in Azurite and upload files to it, signing with the
// emulator's well-known Shared Key (devstoreaccount1).
// Usage (tests/integration/storage.rs runs it): node .ci/azurite-put.js http://127.0.0.1:PORT CONTAINER [KEY=FILE ...]
const crypto = require("crypto");
const fs = require("fs");
const http = require("http");
const ACCOUNT = "devstoreaccount1";
const KEY = Buffer.from("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==", "base64");

function request(base, verb, path, query, body, extra) {
  const url = new URL(base + "/" + ACCOUNT + path + (query ? "?" + query : ""));
  const headers = Object.assign({ "x-ms-date": new Date().toUTCString(), "x-ms-version": "2021-08-06" }, extra);
  const len = body ? body.length : 0;
  const canonHeaders = Object.keys(headers).filter((h) => h.startsWith("x-ms-")).sort()
    .map((h) => h + ":" + headers[h] + "\n").join("");
  let resource = "/" + ACCOUNT + "/" + ACCOUNT + path;
  if (query) {
    const pairs = query.split("&").map((p) => p.split("=")).sort();
    resource += pairs.map(([k, v]) => "\n" + k + ":" + v).join("");
  }
  const sts = [verb, "", "", len ? String(len) : "", "", headers["Content-Type"] || "", "", "", "", "", "", ""].join("\n")
    + "\n" + canonHeaders + resource;
  const sig = crypto.createHmac("sha256", KEY).update(sts, "utf8").digest("base64");
  headers["Authorization"] = "SharedKey " + ACCOUNT + ":" + sig;
  headers["Content-Length"] = len;
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: verb, headers }, (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => (res.statusCode < 300 ? resolve() : reject(new Error(verb + " " + url + ": " + res.statusCode + " " + text))));
    });
    req.on("error", reject);
    if (body) req.write(body);
    req.end();
  });
}

(async () => {
  const [base, container, ...files] = process.argv.slice(2);
  await request(base, "PUT", "/" + container, "restype=container", null, {});
  for (const kf of files) {
    const [key, file] = kf.split("=");
    await request(base, "PUT", "/" + container + "/" + key, "", fs.readFileSync(file), { "x-ms-blob-type": "BlockBlob" });
  }
})().catch((e) => { console.error(e.message); process.exit(1); });
