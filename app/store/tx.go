package store

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Tx is one workspace transaction: the records and secrets written through it are committed
// together, or (on an error, a crash, a kill) not at all.
type Tx struct {
	w  *Workspace
	tx *bolt.Tx
}

// Update runs fn in one read-write transaction. When fn returns an error nothing it wrote is
// kept. A key set's metadata and its secret, for example, are saved or deleted together, so a
// process killed half way leaves the old state or the new one, never a mix.
func (w *Workspace) Update(fn func(tx *Tx) error) error {
	err := w.db.Update(func(btx *bolt.Tx) error { return fn(&Tx{w: w, tx: btx}) })
	if err != nil {
		return fmt.Errorf("update workspace %s: %w", w.dir, err)
	}
	return nil
}

// SetWriteHook installs h, called before every write inside Update with the write's
// description ("put keysets/…", "delete secrets/…"); an error from h fails that write and so
// the whole transaction. It exists for tests that simulate a crash between two writes; nil
// removes it.
func (w *Workspace) SetWriteHook(h func(op string) error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.hook = h
}

func (t *Tx) before(op string) error {
	t.w.mu.Lock()
	h := t.w.hook
	t.w.mu.Unlock()
	if h == nil {
		return nil
	}
	return h(op)
}

// Put stores v as JSON under bucket/id.
func (t *Tx) Put(bucket, id string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("store %s/%s: %w", bucket, id, err)
	}
	return t.put(bucket, id, b)
}

func (t *Tx) put(bucket, id string, b []byte) error {
	if err := t.before("put " + bucket + "/" + id); err != nil {
		return err
	}
	bk, err := t.tx.CreateBucketIfNotExists([]byte(bucket))
	if err != nil {
		return err
	}
	return bk.Put([]byte(id), b)
}

// Get decodes bucket/id into v; ErrNotFound when missing.
func (t *Tx) Get(bucket, id string, v any) error {
	bk := t.tx.Bucket([]byte(bucket))
	var d []byte
	if bk != nil {
		d = bk.Get([]byte(id))
	}
	if d == nil {
		return fmt.Errorf("%s/%s: %w", bucket, id, ErrNotFound)
	}
	return json.Unmarshal(d, v)
}

// Delete removes bucket/id (no error when missing).
func (t *Tx) Delete(bucket, id string) error {
	if err := t.before("delete " + bucket + "/" + id); err != nil {
		return err
	}
	if bk := t.tx.Bucket([]byte(bucket)); bk != nil {
		return bk.Delete([]byte(id))
	}
	return nil
}

// PutSecret stores plaintext encrypted under name.
func (t *Tx) PutSecret(name string, plaintext []byte) error {
	sealed, err := t.w.seal(name, plaintext)
	if err != nil {
		return err
	}
	return t.put(BucketSecrets, name, sealed)
}

// DeleteSecret removes the secret name (no error when missing).
func (t *Tx) DeleteSecret(name string) error { return t.Delete(BucketSecrets, name) }

// AppendKeep appends v to bucket like Append, in one transaction that also deletes the oldest
// records beyond the newest keep (keep ≤ 0 keeps all). The license ledger uses it so that its
// size stays bounded: usually one record goes as one comes.
func (w *Workspace) AppendKeep(bucket string, v any, keep int) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("append to %s: %w", bucket, err)
	}
	var id string
	// Concurrent appends (a license server under load) go through Batch and share one commit
	// and one fsync; a lone append commits at once. Either way the call returns only once its
	// record is on disk.
	commit := w.db.Update
	if w.appending.Add(1) > 1 {
		commit = w.db.Batch
	}
	defer w.appending.Add(-1)
	err = commit(func(btx *bolt.Tx) error {
		tx := &Tx{w: w, tx: btx}
		bk, err := tx.tx.CreateBucketIfNotExists([]byte(bucket))
		if err != nil {
			return err
		}
		seq, err := bk.NextSequence()
		if err != nil {
			return err
		}
		id = seqID(seq)
		if err := tx.put(bucket, id, b); err != nil {
			return err
		}
		if keep <= 0 || seq <= uint64(keep) {
			return nil
		}
		return tx.deleteBefore(bucket, seqID(seq-uint64(keep)+1))
	})
	if err != nil {
		return "", fmt.Errorf("append to %s in workspace %s: %w", bucket, w.dir, err)
	}
	return id, nil
}

func seqID(seq uint64) string { return fmt.Sprintf("%016d", seq) }

// deleteBefore deletes the records of bucket whose IDs sort before cutoff.
func (t *Tx) deleteBefore(bucket, cutoff string) error {
	bk := t.tx.Bucket([]byte(bucket))
	if bk == nil {
		return nil
	}
	var old [][]byte
	c := bk.Cursor()
	for k, _ := c.First(); k != nil && string(k) < cutoff; k, _ = c.Next() {
		old = append(old, append([]byte(nil), k...))
	}
	for _, k := range old {
		if err := t.Delete(bucket, string(k)); err != nil {
			return err
		}
	}
	return nil
}
