// Compose's `mongo-init` step: make the single mongod a one-member replica set "rs0" (so the
// shop's multi-document transactions work), then wait until it is a writable primary.
// Idempotent: on a set that already exists it only waits for the primary.
try {
  rs.status();
} catch (error) {
  if (error.codeName !== "NotYetInitialized") {
    throw error;
  }
  rs.initiate({ _id: "rs0", members: [{ _id: 0, host: "mongo:27017" }] });
}
const deadline = Date.now() + 60 * 1000;
while (!db.hello().isWritablePrimary) {
  if (Date.now() > deadline) {
    throw new Error("replica set rs0 has no writable primary after 60 s");
  }
  sleep(500);
}
print("replica set rs0: writable primary ready");
