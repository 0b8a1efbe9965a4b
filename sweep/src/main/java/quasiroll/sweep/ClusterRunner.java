package quasiroll.sweep;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import quasiroll.common.error.BadInputException;
import quasiroll.v1.JobEvent;
import quasiroll.v1.JobSpec;
import quasiroll.v1.JobState;
import quasiroll.v1.JobStatus;
import quasiroll.v1.QuasirollServiceGrpc;
import quasiroll.v1.SampleResult;
import quasiroll.v1.StreamJobRequest;
import quasiroll.v1.SubmitJobRequest;

/**
 * Runs sweep jobs on a quasiroll cluster through the public v1 API: {@code SubmitJob}, then {@code
 * StreamJob} from offset 0, and on a dropped stream {@code StreamJob} again from the next event
 * offset (the API's resumable stream), a few times with back-off. Samples seen twice across a
 * resume are the same samples; the sweep keys them by index.
 */
public final class ClusterRunner implements RolloutRunner {
  private static final int MAX_RESUMES = 5;

  private final String target;
  private final ManagedChannel channel;
  private final QuasirollServiceGrpc.QuasirollServiceBlockingStub stub;

  /**
   * A plaintext runner (a loopback cluster, e.g. {@code sweep --local}).
   *
   * @param target HOST:PORT of the coordinator's client API
   * @param token shared bearer token, or null when the coordinator has none
   */
  public ClusterRunner(String target, String token) {
    this(checkTarget(target), plaintext(target, token));
  }

  /**
   * A runner on a channel the caller built (TLS, credentials); the runner owns it and shuts it down
   * on {@link #close()}.
   *
   * @param target HOST:PORT the channel dials (for messages)
   */
  public ClusterRunner(String target, ManagedChannel channel) {
    this.target = target;
    this.channel = channel;
    this.stub = QuasirollServiceGrpc.newBlockingStub(channel);
  }

  /** Returns {@code target} if it is HOST:PORT, else throws {@link BadInputException}. */
  public static String checkTarget(String target) {
    if (target == null || !target.matches("[^:\\s]+:\\d{1,5}")) {
      throw new BadInputException(
          "coordinator address '"
              + target
              + "' is invalid: expected HOST:PORT, e.g. localhost:7443");
    }
    return target;
  }

  private static ManagedChannel plaintext(String target, String token) {
    NettyChannelBuilder b =
        NettyChannelBuilder.forTarget(target).usePlaintext().maxInboundMessageSize(64 << 20);
    if (token != null && !token.isEmpty()) {
      Metadata m = new Metadata();
      m.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
      b.intercept(MetadataUtils.newAttachHeadersInterceptor(m));
    }
    return b.build();
  }

  @Override
  public void run(JobSpec job, Consumer<SampleResult> out) {
    // SubmitJob then StreamJob (rather than SubmitAndStream): the job id is known before the
    // first event, so any dropped stream can be resumed from its next offset.
    String jobId;
    try {
      jobId = stub.submitJob(SubmitJobRequest.newBuilder().setSpec(job).build()).getJobId();
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.INVALID_ARGUMENT) {
        throw new BadInputException(
            "the coordinator refused job " + job.getName() + ": " + e.getStatus().getDescription(),
            e);
      }
      throw new IllegalStateException(
          "cannot submit job " + job.getName() + " to " + target + ": " + e.getStatus(), e);
    }
    long nextOffset = 0;
    int resumes = 0;
    boolean batches = true; // StreamJobBatches, unless the coordinator predates it
    Iterator<JobEvent> events = stream(jobId, 0, batches);
    while (true) {
      try {
        while (events.hasNext()) {
          JobEvent e = events.next();
          nextOffset = e.getOffset() + 1;
          switch (e.getEventCase()) {
            case SAMPLE -> out.accept(e.getSample());
            case STATUS -> {
              JobStatus st = e.getStatus();
              if (st.getState() == JobState.JOB_STATE_SUCCEEDED) {
                return;
              }
              if (st.getState() == JobState.JOB_STATE_FAILED
                  || st.getState() == JobState.JOB_STATE_CANCELLED) {
                throw new IllegalStateException(
                    "job "
                        + job.getName()
                        + " ("
                        + st.getJobId()
                        + ") ended "
                        + st.getState()
                        + ": "
                        + st.getError());
              }
            }
            default -> {}
          }
        }
        throw new IllegalStateException(
            "the stream of job " + job.getName() + " ended without a final status");
      } catch (StatusRuntimeException e) {
        Status.Code code = e.getStatus().getCode();
        if (batches && code == Status.Code.UNIMPLEMENTED) {
          batches = false;
          events = stream(jobId, nextOffset, false);
          continue;
        }
        if (code != Status.Code.UNAVAILABLE || ++resumes > MAX_RESUMES) {
          throw new IllegalStateException(
              "job " + job.getName() + " on " + target + " failed: " + e.getStatus(), e);
        }
        sleep(500L << resumes);
        events = stream(jobId, nextOffset, batches);
      }
    }
  }

  /** The job's events from {@code offset}: many per message, or one per message. */
  private Iterator<JobEvent> stream(String jobId, long offset, boolean batches) {
    StreamJobRequest from =
        StreamJobRequest.newBuilder().setJobId(jobId).setFromOffset(offset).build();
    return batches ? EventBatches.flatten(stub.streamJobBatches(from)) : stub.streamJob(from);
  }

  /** Enough to keep a few workers busy while another job is being submitted or finished. */
  @Override
  public int concurrentJobs() {
    return 4;
  }

  @Override
  public String describe() {
    return "cluster at " + target;
  }

  @Override
  public void close() {
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
