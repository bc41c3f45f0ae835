//! Signals arrive on the loop through the self-pipe (its own test binary: handlers are
//! process-wide).

use std::time::Duration;

use reactor::{Reactor, Signals, SIGUSR1, SIGUSR2};

fn raise_later(signal: libc::c_int, after: Duration) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        std::thread::sleep(after);
        // SAFETY: kill(getpid(), sig) has no memory-safety preconditions.
        unsafe { libc::kill(libc::getpid(), signal) };
    })
}

#[test]
fn signals_reach_the_loop() {
    Reactor::current().block_on(async {
        let mut signals = Signals::new(&[SIGUSR1, SIGUSR2]).unwrap();
        let t = raise_later(SIGUSR2, Duration::from_millis(10));
        let got = reactor::timeout(Duration::from_secs(10), signals.recv()).await;
        assert_eq!(got.unwrap().unwrap(), SIGUSR2);
        t.join().unwrap();

        // Two different signals sent while nobody waits are both delivered.
        // SAFETY: as above.
        unsafe {
            libc::kill(libc::getpid(), SIGUSR1);
            libc::kill(libc::getpid(), SIGUSR2);
        }
        let mut got = vec![signals.recv().await.unwrap(), signals.recv().await.unwrap()];
        got.sort();
        assert_eq!(got, vec![SIGUSR1, SIGUSR2]);

        // Timers and other tasks keep running while a listener waits.
        let waiting = reactor::timeout(Duration::from_millis(20), signals.recv()).await;
        assert!(waiting.is_err());
    });
}
