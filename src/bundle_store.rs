//! The bundle store: `[registry].bundle_store`, object storage
//! (`s3://bucket/prefix`, `gs://`, `az://`) that `package --upload` puts
//! each bundle in, as `PREFIX/NAME-vX.Y.Z.tar.gz`, and that `deploy` fetches
//! it from when `dist/` lacks it (checked against the tag's sha256 there).

use crate::data::store::Remote;
use crate::error::Result;

/// The object of the bundle of `name` version `version` in `store`.
pub fn object(store: &str, name: &str, version: &str) -> Result<Remote> {
    Remote::open(&format!(
        "{}/{name}-{version}.tar.gz",
        store.trim_end_matches('/')
    ))
}
