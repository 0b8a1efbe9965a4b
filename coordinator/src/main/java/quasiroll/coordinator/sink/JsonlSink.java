package quasiroll.coordinator.sink;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import quasiroll.v1.SampleResult;

/**
 * A job's JSONL file sink: one line per sample ({@link SampleJsonl}), written a whole group at a
 * time in index order when the group completes, so lines of one prompt are contiguous and ordered;
 * groups follow in completion order. Sort by (prompt_id, index) for a canonical file.
 *
 * <p>What holds:
 *
 * <ul>
 *   <li>Never overwrites: the file is created with CREATE_NEW; an existing file (from an earlier
 *       job or anything else) is refused with {@link SinkException}.
 *   <li>Flushed per group: a group's lines go out as one buffer at the end of the committed part of
 *       the file and are forced to the device ({@code fsync}) before the group counts as written,
 *       so a coordinator crash loses at most the group being written.
 *   <li>No half line at rest: when a write fails (disk full, I/O error) the file is truncated back
 *       to the end of the last whole group, and the sink refuses further writes; the caller fails
 *       the job with the message. A reader tailing the file while a group is being written should
 *       read up to the last newline (as for any growing JSONL file); the committed length ({@link
 *       #committedBytes()}) only ever ends on a newline.
 * </ul>
 */
public final class JsonlSink implements AutoCloseable {
  /** A sink that cannot be opened or written; the message names the file and the cause. */
  public static final class SinkException extends RuntimeException {
    public SinkException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private final Path path;
  private final FileChannel out;
  private long committed;
  private String broken;

  private JsonlSink(Path path, FileChannel out, long committed) {
    this.path = path;
    this.out = out;
    this.committed = committed;
  }

  /** Creates a new file; refuses an existing one. */
  public static JsonlSink create(Path path) {
    try {
      Path parent = path.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      FileChannel ch =
          FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      return new JsonlSink(path, ch, 0);
    } catch (FileAlreadyExistsException e) {
      throw new SinkException(
          "JSONL sink " + path + " already exists: sinks never overwrite; choose a new name", e);
    } catch (IOException e) {
      throw new SinkException("cannot create JSONL sink " + path + ": " + describe(e), e);
    }
  }

  /**
   * Reopens the sink of a job being resumed: keeps exactly the first {@code committed} bytes (whole
   * groups recorded as written) and truncates anything after them, a group that was being written
   * when the coordinator died.
   */
  public static JsonlSink resume(Path path, long committed) {
    try {
      FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      if (ch.size() < committed) {
        ch.close();
        throw new SinkException(
            "JSONL sink "
                + path
                + " has "
                + ch.size()
                + " bytes but "
                + committed
                + " were recorded as written: the file was changed outside quasiroll",
            null);
      }
      ch.truncate(committed);
      ch.force(true);
      return new JsonlSink(path, ch, committed);
    } catch (IOException e) {
      throw new SinkException("cannot reopen JSONL sink " + path + ": " + describe(e), e);
    }
  }

  /** A sink over a channel opened elsewhere (tests: a device such as /dev/full). */
  static JsonlSink onChannel(Path path, FileChannel channel) {
    return new JsonlSink(path, channel, 0);
  }

  public Path path() {
    return path;
  }

  /** Bytes of whole groups written and forced to the device. */
  public long committedBytes() {
    return committed;
  }

  /**
   * Appends one group and forces it to the device.
   *
   * @throws SinkException when the write fails; the file is left ending after the last whole group
   *     and the sink accepts no more writes
   */
  public void writeGroup(List<SampleResult> byIndex) {
    if (broken != null) {
      throw new SinkException("JSONL sink " + path + " failed earlier: " + broken, null);
    }
    StringBuilder lines = new StringBuilder();
    for (SampleResult r : byIndex) {
      lines.append(SampleJsonl.line(r)).append('\n');
    }
    ByteBuffer buf = ByteBuffer.wrap(lines.toString().getBytes(StandardCharsets.UTF_8));
    try {
      long at = committed;
      while (buf.hasRemaining()) {
        at += out.write(buf, at);
      }
      out.force(false);
      committed = at;
    } catch (IOException e) {
      broken = describe(e);
      try {
        out.truncate(committed);
      } catch (IOException again) {
        e.addSuppressed(again);
      }
      throw new SinkException("cannot write JSONL sink " + path + ": " + broken, e);
    }
  }

  @Override
  public void close() {
    try {
      out.close();
    } catch (IOException e) {
      throw new SinkException("cannot close JSONL sink " + path + ": " + describe(e), e);
    }
  }

  private static String describe(IOException e) {
    String m = e.getMessage();
    return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }
}
