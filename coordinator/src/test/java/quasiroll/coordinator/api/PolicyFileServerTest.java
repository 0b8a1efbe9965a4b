package quasiroll.coordinator.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.MetadataUtils;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import quasiroll.v1.FetchPolicyFileRequest;
import quasiroll.v1.PolicyFileChunk;
import quasiroll.v1.WorkerDataPlaneGrpc;

/**
 * {@code WorkerDataPlane.FetchPolicyFile}: a node gets a policy file in ordered 1 MiB chunks whose
 * last one carries the file's SHA-256; clients, other nodes' worker ids, paths outside {@code
 * <data-dir>/policies} (also through a link) and missing files are refused.
 */
class PolicyFileServerTest {
  private static final String ALICE = "alice-token-0123456789a";
  private static final String GPU = "gpu1-token-0123456789ab";

  @TempDir Path dir;
  private Path root;
  private Server server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    root = Files.createDirectories(dir.resolve("data/policies"));
    Path tokens =
        Files.writeString(dir.resolve("tokens"), "alice client " + ALICE + "\ngpu1 node " + GPU);
    var refused = new SimpleMeterRegistry().counter("refused");
    Authenticator auth = Authenticator.create("cluster-token-0123456789", tokens, false, refused);
    String name = InProcessServerBuilder.generateName();
    server =
        InProcessServerBuilder.forName(name)
            .addService(
                ServerInterceptors.intercept(new DataPlaneService(null, refused, root), auth))
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).build();
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    server.shutdownNow();
  }

  private List<PolicyFileChunk> fetch(String token, String workerId, Path path) {
    Metadata md = new Metadata();
    md.put(Authenticator.AUTHORIZATION, "Bearer " + token);
    var it =
        WorkerDataPlaneGrpc.newBlockingStub(channel)
            .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
            .withDeadlineAfter(20, TimeUnit.SECONDS)
            .fetchPolicyFile(
                FetchPolicyFileRequest.newBuilder()
                    .setWorkerId(workerId)
                    .setPath(path.toString())
                    .build());
    List<PolicyFileChunk> out = new ArrayList<>();
    it.forEachRemaining(out::add);
    return out;
  }

  private Status refusal(String token, String workerId, Path path) {
    return assertThrows(StatusRuntimeException.class, () -> fetch(token, workerId, path))
        .getStatus();
  }

  @Test
  void aNodeGetsTheFileInOrderedChunksWithItsHash() throws Exception {
    byte[] bytes = new byte[(5 << 20) / 2 + 17];
    new Random(7).nextBytes(bytes);
    Path f = Files.createDirectories(root.resolve("tiny/v3")).resolve("model.safetensors");
    Files.write(f, bytes);
    List<PolicyFileChunk> chunks = fetch(GPU, "gpu1-host-1-2", f);
    assertEquals(3, chunks.size());
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    for (int i = 0; i < chunks.size(); i++) {
      PolicyFileChunk c = chunks.get(i);
      assertEquals(bytes.length, c.getSize());
      assertEquals(got.size(), c.getOffset());
      assertEquals(
          i < 2 ? PolicyFileServer.CHUNK_BYTES : bytes.length - 2 * (1 << 20), c.getData().size());
      assertEquals(i == 2, !c.getSha256().isEmpty());
      c.getData().writeTo(got);
    }
    assertArrayEquals(bytes, got.toByteArray());
    assertArrayEquals(
        MessageDigest.getInstance("SHA-256").digest(bytes),
        chunks.get(2).getSha256().toByteArray());
    // an empty file: one chunk, no data, the hash of nothing
    Path empty = Files.createFile(root.resolve("tiny/v3/empty.safetensors"));
    List<PolicyFileChunk> none = fetch(GPU, "gpu1-x", empty);
    assertEquals(1, none.size());
    assertEquals(0, none.get(0).getSize());
    assertArrayEquals(
        MessageDigest.getInstance("SHA-256").digest(new byte[0]),
        none.get(0).getSha256().toByteArray());
  }

  @Test
  void clientsOtherWorkersPathsOutsideThePoliciesAndMissingFilesAreRefused() throws Exception {
    Path f = Files.createDirectories(root.resolve("tiny/v1")).resolve("a.safetensors");
    Files.write(f, new byte[] {1, 2, 3});
    assertEquals(Status.Code.PERMISSION_DENIED, refusal(ALICE, "alice-w", f).getCode());
    Status other = refusal(GPU, "gpu2-host-1", f);
    assertEquals(Status.Code.PERMISSION_DENIED, other.getCode());
    assertTrue(other.getDescription().contains("gpu2-host-1"), other.getDescription());

    Path secret = Files.writeString(dir.resolve("data/secret.txt"), "no");
    Status outside = refusal(GPU, "gpu1-w", root.resolve("../secret.txt"));
    assertEquals(Status.Code.INVALID_ARGUMENT, outside.getCode());
    assertTrue(
        outside.getDescription().contains("not under the policies directory"),
        outside.getDescription());

    Path link = Files.createSymbolicLink(root.resolve("tiny/v1/link.safetensors"), secret);
    Status viaLink = refusal(GPU, "gpu1-w", link);
    assertEquals(Status.Code.INVALID_ARGUMENT, viaLink.getCode());
    assertTrue(viaLink.getDescription().contains(link.toString()), viaLink.getDescription());

    Status dirItself = refusal(GPU, "gpu1-w", root.resolve("tiny/v1"));
    assertEquals(Status.Code.INVALID_ARGUMENT, dirItself.getCode());

    Status missing = refusal(GPU, "gpu1-w", root.resolve("tiny/v9/model.safetensors"));
    assertEquals(Status.Code.NOT_FOUND, missing.getCode());
    assertTrue(missing.getDescription().contains("v9"), missing.getDescription());
  }
}
