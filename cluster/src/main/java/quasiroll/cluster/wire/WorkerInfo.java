package quasiroll.cluster.wire;

/**
 * What a worker node offers.
 *
 * @param workerId unique per worker process (stable for its lifetime)
 * @param model the model id the worker loaded; it only ever gets shards of jobs naming it
 * @param device e.g. "cpu", "cuda:0"
 * @param capacity the most samples the worker decodes as one batch: shards are cut to it
 * @param vocabSize the loaded model's vocabulary size (0 = not known): the coordinator refuses or
 *     fails jobs whose prompt token ids are not below it
 */
public record WorkerInfo(
    String workerId, String model, String device, int capacity, int vocabSize) {
  public WorkerInfo(String workerId, String model, String device, int capacity) {
    this(workerId, model, device, capacity, 0);
  }
}
