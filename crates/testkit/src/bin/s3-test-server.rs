//! Starts a SeaweedFS S3 server on loopback for tests in other languages (the Node engine's):
//! prints one JSON line `{endpoint, accessKey, secretKey, region, bucket}` and serves until its
//! standard input closes (the test process exiting closes it), then stops the server.

use std::io::Read;

use backstage_backup_testkit::S3Server;

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let server = runtime.block_on(S3Server::start())?;
    let bucket = runtime.block_on(server.create_bucket())?;
    println!(
        "{{\"endpoint\":\"{}\",\"accessKey\":\"{}\",\"secretKey\":\"{}\",\"region\":\"{}\",\"bucket\":\"{}\"}}",
        server.endpoint, server.access_key, server.secret_key, server.region, bucket
    );
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    drop(server);
    Ok(())
}
