package quasiroll.cli;

import com.google.protobuf.util.JsonFormat;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import quasiroll.v1.GetJobStatusRequest;

@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description =
        "Prints a job's status (state, progress, waiting reason, re-queued shards) as JSON.")
final class StatusCommand implements Callable<Integer> {
  @Mixin ClientOptions client;

  @Parameters(paramLabel = "JOB", description = "Job id as printed by submit.")
  String jobId;

  @Override
  public Integer call() throws Exception {
    var resp =
        client.unaryCall(
            stub -> stub.getJobStatus(GetJobStatusRequest.newBuilder().setJobId(jobId).build()));
    System.out.println(JsonFormat.printer().preservingProtoFieldNames().print(resp));
    return Main.EXIT_OK;
  }
}
