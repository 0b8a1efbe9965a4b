package quasiroll.coordinator.api;

import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * A gRPC marshaller for messages that are already encoded: the server sends the bytes as they are
 * (event streams send each event's stored encoding, so nothing is serialized again per client). The
 * peer sees an ordinary protobuf message of the method's declared type.
 */
final class RawMessages implements MethodDescriptor.Marshaller<byte[]> {
  static final RawMessages INSTANCE = new RawMessages();

  private RawMessages() {}

  @Override
  public InputStream stream(byte[] message) {
    return new Stream(message);
  }

  @Override
  public byte[] parse(InputStream in) {
    try {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Lets gRPC learn the length up front and copy the bytes straight into its frame buffer. */
  private static final class Stream extends ByteArrayInputStream implements KnownLength, Drainable {
    Stream(byte[] b) {
      super(b);
    }

    @Override
    public int drainTo(OutputStream target) throws IOException {
      int n = count - pos;
      target.write(buf, pos, n);
      pos = count;
      return n;
    }
  }
}
