package quasiroll.worker.model;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import quasiroll.common.error.BadInputException;

/**
 * Opening, parsing and mapping of a single-file weight format (GGUF, safetensors) read through one
 * read-only {@link FileChannel}: what must hold for every such format is that a missing file or a
 * directory is bad input naming the path, the channel is closed whenever parsing fails, and each
 * tensor is mapped as its own range, of any size, into a {@link MemorySegment} ({@link #map}).
 */
public final class ModelFileChannels {
  private ModelFileChannels() {}

  /** Parses the open channel of a model file; the channel stays open when it returns. */
  @FunctionalInterface
  public interface Parser<T> {
    T parse(FileChannel channel) throws IOException;
  }

  /**
   * Opens {@code path} read-only and hands the channel to {@code parser}; on any failure the
   * channel is closed. {@code kind} names the format in messages ("GGUF", "safetensors").
   *
   * @throws BadInputException if the file does not exist, cannot be opened or is a directory
   * @throws UncheckedIOException if reading fails
   */
  public static <T> T open(Path path, String kind, Parser<T> parser) {
    FileChannel ch;
    try {
      ch = FileChannel.open(path, StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      throw new BadInputException(kind + " file '" + path + "' does not exist");
    } catch (IOException e) {
      throw new BadInputException(
          "cannot open " + kind + " file '" + path + "': " + e.getMessage(), e);
    }
    try {
      if (Files.isDirectory(path)) {
        throw new BadInputException("'" + path + "' is a directory, not a " + kind + " file");
      }
      return parser.parse(ch);
    } catch (RuntimeException e) {
      closeQuietly(ch);
      throw e;
    } catch (IOException e) {
      closeQuietly(ch);
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Maps {@code bytes} bytes at {@code position} read-only as a {@link MemorySegment} of any size
   * (2 GiB and more; the bytes are little-endian, which readers state in their value layouts).
   *
   * <p>Lifetime: each range is mapped into its own {@link Arena#ofAuto() automatic arena}, so it is
   * unmapped when the last view of it (the segment, a slice, a kernel holding one) becomes
   * unreachable, exactly as a {@code MappedByteBuffer} was, and never while a decode may still read
   * it. Closing the channel (or the {@link LoadedModel}) does not unmap: {@code BackendLoader}
   * closes the files once the backend is built, and a policy version's tensors are shared by
   * versions whose decode loops end at different times ({@code PolicyVersions}), so no single owner
   * could close an explicit arena safely.
   *
   * @param what the tensor in messages, e.g. "model.gguf: tensor 'w'"
   * @throws BadInputException naming {@code what} if the range is negative or runs past the end of
   *     the file
   */
  public static MemorySegment map(FileChannel ch, long position, long bytes, String what) {
    try {
      long size = ch.size();
      if (position < 0 || bytes < 0 || position > size || bytes > size - position) {
        throw new BadInputException(
            what
                + " data ["
                + position
                + ", "
                + end(position, bytes)
                + ") runs past the end of the file (size "
                + size
                + "); truncated file?");
      }
      return ch.map(FileChannel.MapMode.READ_ONLY, position, bytes, Arena.ofAuto());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String end(long position, long bytes) {
    try {
      return Long.toString(Math.addExact(position, bytes));
    } catch (ArithmeticException e) {
      return "2^63 and beyond";
    }
  }

  /** Closes a read-only channel; a failure to close loses nothing, so it is ignored. */
  public static void closeQuietly(FileChannel ch) {
    try {
      ch.close();
    } catch (IOException ignored) {
      // closing a read-only channel loses nothing
    }
  }
}
