package license

import (
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"time"
)

// capListener holds at most max connections at once. When a connection arrives at the cap,
// the oldest connection that is not in a request (new and still silent, or idle between
// requests) is closed to make room: a flood of idle connections can never starve a real
// request (issue 16: 1,050 idle connections made /health time out). When every held
// connection is in a request, the new one waits up to wait for a slot, then is closed.
type capListener struct {
	net.Listener
	max  int
	wait time.Duration

	mu    sync.Mutex
	conns map[net.Conn]*heldConn // by the accepted connection
	freed chan struct{}          // signalled when a connection closes or turns idle
}

// heldConn is one accepted connection and what the server is doing with it.
type heldConn struct {
	net.Conn
	l     *capListener
	busy  bool      // in a request (http.StateActive)
	since time.Time // when it was accepted or last turned idle
	once  sync.Once
}

func newCapListener(ln net.Listener, max int, wait time.Duration) *capListener {
	return &capListener{Listener: ln, max: max, wait: wait, conns: map[net.Conn]*heldConn{}, freed: make(chan struct{}, 1)}
}

// Accept returns the next connection once there is room for it.
func (l *capListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if h := l.admit(c); h != nil {
			return h, nil
		}
	}
}

// admit makes room for c (closing the oldest connection not in a request, or waiting up to
// l.wait for one to free) and holds it; nil when there is no room (c is closed).
func (l *capListener) admit(c net.Conn) *heldConn {
	deadline := time.Now().Add(l.wait)
	for {
		l.mu.Lock()
		if len(l.conns) < l.max {
			h := &heldConn{Conn: c, l: l, since: time.Now()}
			l.conns[c] = h
			l.mu.Unlock()
			return h
		}
		victim := l.oldestIdle()
		l.mu.Unlock()
		if victim != nil {
			victim.Close()
			continue
		}
		left := time.Until(deadline)
		if left <= 0 {
			c.Close()
			return nil
		}
		select {
		case <-l.freed:
		case <-time.After(min(left, 100*time.Millisecond)):
		}
	}
}

// oldestIdle returns the held connection not in a request that has waited longest. l.mu held.
func (l *capListener) oldestIdle() *heldConn {
	var v *heldConn
	for _, h := range l.conns {
		if !h.busy && (v == nil || h.since.Before(v.since)) {
			v = h
		}
	}
	return v
}

// connState is the http.Server's ConnState hook: it tells the listener which connections
// are in a request.
func (l *capListener) connState(c net.Conn, s http.ConnState) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	h, ok := c.(*heldConn)
	if !ok {
		return
	}
	switch s {
	case http.StateActive:
		l.mu.Lock()
		h.busy = true
		l.mu.Unlock()
	case http.StateIdle:
		l.mu.Lock()
		h.busy, h.since = false, time.Now()
		l.mu.Unlock()
		l.signal()
	case http.StateHijacked, http.StateClosed:
		h.release()
	}
}

func (l *capListener) signal() {
	select {
	case l.freed <- struct{}{}:
	default:
	}
}

// release forgets the connection (once) and signals a waiting Accept.
func (h *heldConn) release() {
	h.once.Do(func() {
		h.l.mu.Lock()
		delete(h.l.conns, h.Conn)
		h.l.mu.Unlock()
		h.l.signal()
	})
}

// Close closes the connection and frees its slot.
func (h *heldConn) Close() error {
	err := h.Conn.Close()
	h.release()
	return err
}
