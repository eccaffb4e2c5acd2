//! The channel operations the I/O thread's bridges need, so one bridge serves ssh2's channels and forwarded agent
//! channels alike.

use std::io::{self, Write};

use ssh2::Channel;

/// One SSH channel as the I/O thread drives it, in non-blocking mode.
pub(crate) trait Link: Send {
    /// Writes channel data; `WouldBlock` when the window or socket is full.
    fn send(&mut self, data: &[u8]) -> io::Result<usize>;
    /// Reads from stream 0 (data) or 1 (stderr); `WouldBlock` when nothing has arrived.
    fn receive(&mut self, stream_id: i32, buf: &mut [u8]) -> io::Result<usize>;
    /// Tells the remote side no more data follows.
    fn send_eof(&mut self) -> Result<(), ssh2::Error>;
    /// Whether the remote side has sent its end of data.
    fn eof(&self) -> bool;
    /// Sends the channel close.
    fn close(&mut self) -> Result<(), ssh2::Error>;
    /// Waits for the remote side's close.
    fn wait_close(&mut self) -> Result<(), ssh2::Error>;
    /// The exit status and signal the remote command reported, if any.
    fn exit(&self) -> (Option<i32>, Option<String>);
    /// Bytes libssh2 already holds for this channel.
    fn queued(&self) -> u32;
}

impl Link for Channel {
    fn send(&mut self, data: &[u8]) -> io::Result<usize> {
        self.write(data)
    }

    fn receive(&mut self, stream_id: i32, buf: &mut [u8]) -> io::Result<usize> {
        io::Read::read(&mut self.stream(stream_id), buf)
    }

    fn send_eof(&mut self) -> Result<(), ssh2::Error> {
        Channel::send_eof(self)
    }

    fn eof(&self) -> bool {
        Channel::eof(self)
    }

    fn close(&mut self) -> Result<(), ssh2::Error> {
        Channel::close(self)
    }

    fn wait_close(&mut self) -> Result<(), ssh2::Error> {
        Channel::wait_close(self)
    }

    fn exit(&self) -> (Option<i32>, Option<String>) {
        (
            self.exit_status().ok(),
            self.exit_signal().ok().and_then(|s| s.exit_signal),
        )
    }

    fn queued(&self) -> u32 {
        self.read_window().available
    }
}
