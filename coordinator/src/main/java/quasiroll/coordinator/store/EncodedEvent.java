package quasiroll.coordinator.store;

import com.google.protobuf.InvalidProtocolBufferException;
import quasiroll.v1.JobEvent;

/**
 * One event of a job's log with its protobuf encoding, each made at most once: an event appended by
 * the job manager is encoded once (by the job store's writer, for its row) and those bytes are what
 * every client stream sends; an event read back from the store stays bytes until something needs
 * the message. The encoding is protobuf's own ({@link JobEvent#toByteArray}), so a client reads
 * exactly what a serialized {@link JobEvent} would have given it.
 *
 * <p>Thread-safe: either form may be first asked for on any thread (both are immutable and held in
 * volatile fields, so a racing second computation only repeats the work).
 */
public final class EncodedEvent {
  private volatile JobEvent event;
  private volatile byte[] bytes;

  private EncodedEvent(JobEvent event, byte[] bytes) {
    this.event = event;
    this.bytes = bytes;
  }

  public static EncodedEvent of(JobEvent event) {
    return new EncodedEvent(java.util.Objects.requireNonNull(event), null);
  }

  /** An event as stored: parsed only if {@link #event} is called. */
  public static EncodedEvent ofBytes(byte[] bytes) {
    return new EncodedEvent(null, java.util.Objects.requireNonNull(bytes));
  }

  public JobEvent event() {
    JobEvent e = event;
    if (e == null) {
      try {
        e = JobEvent.parseFrom(bytes);
      } catch (InvalidProtocolBufferException x) {
        throw new IllegalStateException("a stored job event does not parse: " + x.getMessage(), x);
      }
      event = e;
    }
    return e;
  }

  /** The event's protobuf encoding; the caller must not modify it. */
  public byte[] bytes() {
    byte[] b = bytes;
    if (b == null) {
      b = event.toByteArray();
      bytes = b;
    }
    return b;
  }
}
