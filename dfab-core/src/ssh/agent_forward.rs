//! Agent forwarding (`-A`): the `auth-agent@openssh.com` channels the remote side opens back to us.
//!
//! The ssh2 crate sends the forwarding request but does not wrap libssh2's callback for the channels that follow,
//! so this module sets that callback through libssh2-sys and drives the raw channels itself. Everything here runs
//! on the connection's I/O thread: the callback fires inside a libssh2 call made there, and only queues the
//! channel for the thread to bridge to the local agent afterwards.

use std::cell::RefCell;
use std::ffi::{c_int, c_void};
use std::io;

use libssh2_sys as raw;
use ssh2::Session;

use super::link::Link;

/// libssh2's `LIBSSH2_CALLBACK_AUTHAGENT`.
const CALLBACK_AUTHAGENT: c_int = 7;

type AuthAgentCallback =
    unsafe extern "C" fn(*mut raw::LIBSSH2_SESSION, *mut raw::LIBSSH2_CHANNEL, *mut *mut c_void);

extern "C" {
    // libssh2-sys links libssh2 but does not declare this function. Every function pointer has the same
    // representation, so the callback's concrete type stands in for libssh2's generic one.
    fn libssh2_session_callback_set2(
        session: *mut raw::LIBSSH2_SESSION,
        cbtype: c_int,
        callback: AuthAgentCallback,
    ) -> *mut c_void;
}

thread_local! {
    /// Agent channels opened during libssh2 calls on this thread, not yet bridged.
    static OPENED: RefCell<Vec<*mut raw::LIBSSH2_CHANNEL>> = const { RefCell::new(Vec::new()) };
}

unsafe extern "C" fn on_agent_channel(
    _session: *mut raw::LIBSSH2_SESSION,
    channel: *mut raw::LIBSSH2_CHANNEL,
    _abstract: *mut *mut c_void,
) {
    OPENED.with(|opened| {
        // A re-entrant call cannot happen (libssh2 calls this once per channel and never from here); if it did,
        // the channel would stay unserved until the session ends, which is harmless.
        if let Ok(mut opened) = opened.try_borrow_mut() {
            opened.push(channel);
        }
    });
}

/// Lets `session` accept agent channels; call before the first forwarding request.
pub(crate) fn enable(session: &Session) {
    let mut locked = session.raw();
    // SAFETY: the session pointer is valid while its lock is held, and the callback matches libssh2's
    // LIBSSH2_AUTHAGENT_FUNC signature.
    unsafe {
        libssh2_session_callback_set2(&mut *locked, CALLBACK_AUTHAGENT, on_agent_channel);
    }
}

/// The agent channels opened on this thread since the last call.
pub(crate) fn take_opened(session: &Session) -> Vec<AgentChannel> {
    OPENED
        .with(|opened| std::mem::take(&mut *opened.borrow_mut()))
        .into_iter()
        .map(|raw| AgentChannel {
            raw,
            session: session.clone(),
        })
        .collect()
}

/// A forwarded agent channel that libssh2 opened on the remote side's request.
pub(crate) struct AgentChannel {
    raw: *mut raw::LIBSSH2_CHANNEL,
    session: Session,
}

// SAFETY: the channel is used only through `session`'s lock, exactly as ssh2's own `Channel` (which is `Send`) uses
// its pointer.
unsafe impl Send for AgentChannel {}

impl AgentChannel {
    /// Runs a libssh2 call on the channel under the session's lock, turning its return code into a result.
    fn call(
        &self,
        f: impl FnOnce(*mut raw::LIBSSH2_CHANNEL) -> isize,
    ) -> Result<usize, ssh2::Error> {
        let mut locked = self.session.raw();
        let rc = f(self.raw);
        if rc >= 0 {
            Ok(rc.unsigned_abs())
        } else {
            let code = c_int::try_from(rc).unwrap_or(raw::LIBSSH2_ERROR_CHANNEL_FAILURE);
            Err(ssh2::Error::from_session_error_raw(&mut *locked, code))
        }
    }
}

impl Link for AgentChannel {
    fn send(&mut self, data: &[u8]) -> io::Result<usize> {
        // SAFETY: `data` outlives the call; the channel is valid until this value drops.
        Ok(self.call(|ch| unsafe {
            raw::libssh2_channel_write_ex(ch, 0, data.as_ptr().cast(), data.len())
        })?)
    }

    fn receive(&mut self, stream_id: i32, buf: &mut [u8]) -> io::Result<usize> {
        // SAFETY: `buf` outlives the call; the channel is valid until this value drops.
        Ok(self.call(|ch| unsafe {
            raw::libssh2_channel_read_ex(ch, stream_id, buf.as_mut_ptr().cast(), buf.len())
        })?)
    }

    fn send_eof(&mut self) -> Result<(), ssh2::Error> {
        // SAFETY: the channel is valid until this value drops.
        self.call(|ch| unsafe { raw::libssh2_channel_send_eof(ch) as isize })
            .map(drop)
    }

    fn eof(&self) -> bool {
        // SAFETY: as above.
        self.call(|ch| unsafe { raw::libssh2_channel_eof(ch) as isize })
            .is_ok_and(|eof| eof != 0)
    }

    fn close(&mut self) -> Result<(), ssh2::Error> {
        // SAFETY: as above.
        self.call(|ch| unsafe { raw::libssh2_channel_close(ch) as isize })
            .map(drop)
    }

    fn wait_close(&mut self) -> Result<(), ssh2::Error> {
        // SAFETY: as above.
        self.call(|ch| unsafe { raw::libssh2_channel_wait_closed(ch) as isize })
            .map(drop)
    }

    fn exit(&self) -> (Option<i32>, Option<String>) {
        (None, None)
    }

    fn queued(&self) -> u32 {
        let mut available = 0;
        let _locked = self.session.raw();
        // SAFETY: as above; libssh2 accepts a null pointer for the initial window size.
        unsafe {
            raw::libssh2_channel_window_read_ex(self.raw, &mut available, std::ptr::null_mut());
        }
        u32::try_from(available).unwrap_or(u32::MAX)
    }
}

impl Drop for AgentChannel {
    fn drop(&mut self) {
        let _locked = self.session.raw();
        // SAFETY: the channel was opened by libssh2 for this session, which `self.session` keeps alive, and is
        // freed exactly once.
        unsafe {
            raw::libssh2_channel_free(self.raw);
        }
    }
}
