package quasiroll.coordinator.api;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import quasiroll.v1.FetchPolicyFileRequest;
import quasiroll.v1.PolicyFileChunk;

/**
 * Serves the files of published policy versions to workers that cannot read the coordinator's data
 * directory ({@code WorkerDataPlane.FetchPolicyFile}): the file is streamed in {@link #CHUNK_BYTES}
 * chunks while the stream is ready (so a slow worker holds no more than gRPC's buffer), read on a
 * small pool off the transport threads, and the last chunk carries the SHA-256 of every byte sent,
 * which the worker checks before it uses the file.
 *
 * <p>Only files under {@code <data-dir>/policies/} are served (the path after resolving links), and
 * only to a caller that may act as the worker it names (a node credential); anything else is
 * refused with PERMISSION_DENIED or INVALID_ARGUMENT naming the path.
 */
final class PolicyFileServer {
  private static final Logger log = LoggerFactory.getLogger(PolicyFileServer.class);

  static final int CHUNK_BYTES = 1 << 20;

  private final Path root;
  private final ExecutorService readers =
      Executors.newFixedThreadPool(
          2,
          r -> {
            Thread t = new Thread(r, "policy-file-reader");
            t.setDaemon(true);
            return t;
          });

  /**
   * @param policiesRoot {@code <data-dir>/policies}
   */
  PolicyFileServer(Path policiesRoot) {
    this.root = policiesRoot.toAbsolutePath().normalize();
  }

  void fetch(
      Principal caller, FetchPolicyFileRequest req, StreamObserver<PolicyFileChunk> response) {
    ServerCallStreamObserver<PolicyFileChunk> out =
        (ServerCallStreamObserver<PolicyFileChunk>) response;
    if (!caller.mayActAsWorker(req.getWorkerId())) {
      out.onError(
          Status.PERMISSION_DENIED
              .withDescription(
                  "'"
                      + caller.name()
                      + "' may not fetch policy files as worker '"
                      + req.getWorkerId()
                      + "': expected a node credential")
              .asRuntimeException());
      return;
    }
    Path file;
    try {
      file = resolve(req.getPath());
    } catch (IllegalArgumentException e) {
      out.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
      return;
    } catch (NoSuchFileException e) {
      out.onError(
          Status.NOT_FOUND
              .withDescription(
                  "policy file '" + req.getPath() + "' does not exist (version deleted?)")
              .asRuntimeException());
      return;
    } catch (IOException e) {
      out.onError(
          Status.UNAVAILABLE
              .withDescription("policy file '" + req.getPath() + "': " + e)
              .asRuntimeException());
      return;
    }
    Pump pump;
    try {
      pump = new Pump(file, out);
    } catch (IOException e) {
      out.onError(
          Status.UNAVAILABLE
              .withDescription("policy file '" + req.getPath() + "' cannot be opened: " + e)
              .asRuntimeException());
      return;
    }
    out.setOnCancelHandler(pump::close);
    out.setOnReadyHandler(() -> readers.execute(pump));
    readers.execute(pump);
  }

  /** The real path of a requested file, which must be a regular file under the policies root. */
  Path resolve(String requested) throws IOException {
    if (requested.isEmpty()) {
      throw new IllegalArgumentException("policy file path is empty");
    }
    Path p = Path.of(requested).toAbsolutePath().normalize();
    if (!p.startsWith(root)) {
      throw new IllegalArgumentException(
          "policy file '" + requested + "' is not under the policies directory " + root);
    }
    Path real = p.toRealPath();
    Path realRoot = root.toRealPath();
    if (!real.startsWith(realRoot) || !Files.isRegularFile(real)) {
      throw new IllegalArgumentException(
          "policy file '"
              + requested
              + "' is not a regular file under the policies directory "
              + root);
    }
    return real;
  }

  /** Sends the file while the stream is ready; runs on the reader pool, never concurrently. */
  private static final class Pump implements Runnable {
    private final Path file;
    private final ServerCallStreamObserver<PolicyFileChunk> out;
    private final FileChannel channel;
    private final long size;
    private final MessageDigest sha;
    private final AtomicBoolean running = new AtomicBoolean();
    private long offset;
    private boolean done;

    Pump(Path file, ServerCallStreamObserver<PolicyFileChunk> out) throws IOException {
      this.file = file;
      this.out = out;
      this.channel = FileChannel.open(file, StandardOpenOption.READ);
      this.size = channel.size();
      try {
        this.sha = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public void run() {
      if (!running.compareAndSet(false, true)) {
        return; // the running pump sends on; the onReady that scheduled this one is seen there
      }
      try {
        synchronized (this) {
          while (!done && !out.isCancelled() && out.isReady()) {
            step();
          }
        }
      } catch (IOException | RuntimeException e) {
        log.warn("sending policy file {} failed: {}", file, e.toString());
        close();
        synchronized (this) {
          if (!done) {
            done = true;
            out.onError(
                Status.UNAVAILABLE
                    .withDescription("reading policy file " + file + " failed: " + e)
                    .asRuntimeException());
          }
        }
      } finally {
        running.set(false);
      }
      // an onReady that arrived between the last isReady() and clearing the flag
      synchronized (this) {
        if (!done && !out.isCancelled() && out.isReady()) {
          run();
        }
      }
    }

    private void step() throws IOException {
      int n = (int) Math.min(CHUNK_BYTES, size - offset);
      ByteBuffer buf = ByteBuffer.allocate(n);
      while (buf.hasRemaining()) {
        if (channel.read(buf, offset + buf.position()) < 0) {
          throw new IOException(
              "file shrank to " + (offset + buf.position()) + " of " + size + " bytes");
        }
      }
      buf.flip();
      sha.update(buf.duplicate());
      PolicyFileChunk.Builder c =
          PolicyFileChunk.newBuilder()
              .setSize(size)
              .setOffset(offset)
              .setData(ByteString.copyFrom(buf));
      offset += n;
      if (offset == size) {
        c.setSha256(ByteString.copyFrom(sha.digest()));
        done = true;
      }
      out.onNext(c.build());
      if (done) {
        close();
        out.onCompleted();
      }
    }

    void close() {
      try {
        channel.close();
      } catch (IOException e) {
        log.debug("closing {}: {}", file, e.toString());
      }
    }
  }
}
