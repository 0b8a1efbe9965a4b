package quasiroll.common.task.custom;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * One plaintext gRPC channel per reward-service endpoint, shared by every verifier that names it (a
 * job has one verifier per prompt; a channel per prompt would open thousands of connections).
 * Channels live until the JVM exits.
 */
final class RewardServiceChannels {
  private static final ConcurrentMap<String, ManagedChannel> CHANNELS = new ConcurrentHashMap<>();

  private RewardServiceChannels() {}

  static ManagedChannel forEndpoint(String endpoint) {
    return CHANNELS.computeIfAbsent(
        endpoint, e -> ManagedChannelBuilder.forTarget(e).usePlaintext().build());
  }
}
