//! Request bodies read from local files (an image tarball, a build context), streamed in chunks.

use bytes::Bytes;
use futures_util::Stream;
use tokio::io::AsyncReadExt;

/// How a file is cut into request body chunks: the SSH channel's chunk size.
pub(crate) const CHUNK: usize = 256 * 1024;

/// The file's bytes as a request body, `on_chunk` told the size of each chunk as it goes (for a progress bar).
pub(crate) fn file_body(
    file: std::fs::File,
    on_chunk: impl Fn(usize) + Clone + Send + 'static,
) -> impl Stream<Item = std::io::Result<Bytes>> + Send {
    futures_util::stream::unfold(tokio::fs::File::from_std(file), move |mut file| {
        let on_chunk = on_chunk.clone();
        async move {
            let mut buffer = vec![0u8; CHUNK];
            match file.read(&mut buffer).await {
                Ok(0) => None,
                Ok(n) => {
                    buffer.truncate(n);
                    on_chunk(n);
                    Some((Ok(Bytes::from(buffer)), file))
                }
                Err(e) => Some((Err(e), file)),
            }
        }
    })
}
