package app

import (
	"io"
	"sync"
	"time"
)

// logBatcher batches the server's log lines: with the access log on, every
// request writes a line, and one write system call per request cost the
// redirect as much as its own work. Lines are written out when 32 KiB
// wait, every flush interval, at once for a warning or an error (logHandler
// calls Flush), and on Close.
type logBatcher struct {
	mu   sync.Mutex
	w    io.Writer
	buf  []byte
	stop chan struct{}
	done chan struct{}
}

const logBatcherSize = 32 << 10

func newLogBuffer(w io.Writer, every time.Duration) *logBatcher {
	b := &logBatcher{w: w, buf: make([]byte, 0, logBatcherSize), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(b.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-b.stop:
				return
			case <-t.C:
				b.Flush()
			}
		}
	}()
	return b
}

// Write keeps p (one log record: the handlers write each in one call).
func (b *logBatcher) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.buf)+len(p) > logBatcherSize {
		b.flushLocked()
	}
	if len(p) >= logBatcherSize {
		return b.w.Write(p)
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

// Flush writes out what waits.
func (b *logBatcher) Flush() {
	b.mu.Lock()
	b.flushLocked()
	b.mu.Unlock()
}

func (b *logBatcher) flushLocked() {
	if len(b.buf) == 0 {
		return
	}
	_, _ = b.w.Write(b.buf) // nowhere to report a failing log
	b.buf = b.buf[:0]
}

// Close stops the timer and writes out what waits.
func (b *logBatcher) Close() {
	close(b.stop)
	<-b.done
	b.Flush()
}
