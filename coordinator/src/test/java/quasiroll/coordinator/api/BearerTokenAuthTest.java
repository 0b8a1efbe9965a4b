package quasiroll.coordinator.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.MetadataUtils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import quasiroll.v1.GetJobStatusRequest;
import quasiroll.v1.QuasirollServiceGrpc;

/** Calls without the right bearer token never reach the service. */
class BearerTokenAuthTest {
  private Server server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    String name = InProcessServerBuilder.generateName();
    // The bare service answers UNIMPLEMENTED: seeing that means the call got past auth.
    server = InProcessServerBuilder.forName(name).directExecutor()
        .addService(ServerInterceptors.intercept(new QuasirollServiceGrpc.QuasirollServiceImplBase() {},
            new BearerTokenAuth("s3cret")))
        .build().start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    server.shutdownNow();
  }

  private Status.Code call(String authorization) {
    var stub = QuasirollServiceGrpc.newBlockingStub(channel);
    if (authorization != null) {
      Metadata md = new Metadata();
      md.put(BearerTokenAuth.AUTHORIZATION, authorization);
      stub = stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
    }
    var s = stub;
    return assertThrows(StatusRuntimeException.class,
        () -> s.getJobStatus(GetJobStatusRequest.newBuilder().setJobId("x").build())).getStatus().getCode();
  }

  @Test
  void onlyTheRightTokenGetsThrough() {
    assertEquals(Status.Code.UNAUTHENTICATED, call(null));
    assertEquals(Status.Code.UNAUTHENTICATED, call("Bearer wrong"));
    assertEquals(Status.Code.UNAUTHENTICATED, call("s3cret"));
    assertEquals(Status.Code.UNIMPLEMENTED, call("Bearer s3cret"));
  }
}
