package quasiroll.cli;

import com.google.protobuf.util.JsonFormat;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import quasiroll.v1.GetJobStatusRequest;
import quasiroll.v1.QuasirollServiceGrpc;

@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description = "Prints a job's status (state, progress, waiting reason, re-queued shards) as JSON.")
final class StatusCommand implements Callable<Integer> {
  @Mixin ClientOptions client;

  @Parameters(paramLabel = "JOB", description = "Job id as printed by submit.")
  String jobId;

  @Override
  public Integer call() throws Exception {
    ManagedChannel channel = client.channel();
    try {
      var status = QuasirollServiceGrpc.newBlockingStub(channel)
          .withDeadlineAfter(15, TimeUnit.SECONDS)
          .getJobStatus(GetJobStatusRequest.newBuilder().setJobId(jobId).build());
      System.out.println(JsonFormat.printer().preservingProtoFieldNames().print(status));
      return Main.EXIT_OK;
    } catch (StatusRuntimeException e) {
      throw GrpcErrors.translate(e, client.coordinator);
    } finally {
      channel.shutdownNow();
    }
  }
}
