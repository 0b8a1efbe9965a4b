package quasiroll.worker.model.gguf;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import quasiroll.common.error.BadInputException;

/**
 * Sequential little-endian reads from a file through a small buffer, with every read checked
 * against the file size, so a truncated or corrupt header fails with the offset and the field
 * instead of a BufferUnderflowException or a huge allocation.
 */
final class ChannelInput {
  private final FileChannel channel;
  private final Path path;
  private final long size;
  private final ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
  private long bufStart; // file offset of buf[0]

  /** One strict decoder for all strings: vocabularies hold hundreds of thousands of them. */
  private final CharsetDecoder utf8 =
      StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT);

  ChannelInput(FileChannel channel, Path path) throws IOException {
    this.channel = channel;
    this.path = path;
    this.size = channel.size();
    buf.limit(0);
  }

  long position() {
    return bufStart + buf.position();
  }

  long size() {
    return size;
  }

  long remaining() {
    return size - position();
  }

  private void need(int n, String what) {
    if (buf.remaining() >= n) {
      return;
    }
    long pos = position();
    if (pos + n > size) {
      throw new BadInputException(
          path
              + ": truncated GGUF file: "
              + what
              + " at offset "
              + pos
              + " needs "
              + n
              + " bytes but the file ends at "
              + size);
    }
    buf.clear();
    bufStart = pos;
    try {
      while (buf.position() < n) {
        int r = channel.read(buf, bufStart + buf.position());
        if (r < 0) {
          throw new BadInputException(path + ": unexpected end of file reading " + what);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    buf.flip();
  }

  int u8(String what) {
    need(1, what);
    return buf.get() & 0xff;
  }

  short i16(String what) {
    need(2, what);
    return buf.getShort();
  }

  int i32(String what) {
    need(4, what);
    return buf.getInt();
  }

  long i64(String what) {
    need(8, what);
    return buf.getLong();
  }

  float f32(String what) {
    need(4, what);
    return buf.getFloat();
  }

  double f64(String what) {
    need(8, what);
    return buf.getDouble();
  }

  /** A count or length (u64) that must not exceed what the rest of the file could hold. */
  long length(String what, long minBytesEach) {
    long pos = position();
    long n = i64(what);
    if (n < 0 || (minBytesEach > 0 && n > remaining() / minBytesEach)) {
      throw new BadInputException(
          path
              + ": corrupt GGUF file: "
              + what
              + " at offset "
              + pos
              + " is "
              + Long.toUnsignedString(n)
              + ", which runs past the end of the file (size "
              + size
              + ")");
    }
    return n;
  }

  String string(String what) {
    long n = length(what + " length", 1);
    if (n > Integer.MAX_VALUE - 16) {
      throw new BadInputException(path + ": string " + what + " too long: " + n + " bytes");
    }
    byte[] bytes = new byte[(int) n];
    int done = 0;
    while (done < n) {
      int chunk = (int) Math.min(n - done, buf.capacity());
      need(chunk, what);
      buf.get(bytes, done, chunk);
      done += chunk;
    }
    try {
      return utf8.decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      // GGUF strings are specified as UTF-8; some vocabularies still carry raw bytes.
      return new String(bytes, StandardCharsets.UTF_8);
    }
  }
}
