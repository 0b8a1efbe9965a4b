package quasiroll.worker.policy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import quasiroll.common.error.BadInputException;
import quasiroll.v1.SampleResult;
import quasiroll.worker.engine.AbortableShardRunner;
import quasiroll.worker.engine.ProgressSink;
import quasiroll.worker.engine.ResolvedShard;
import quasiroll.worker.engine.ShardRunner;
import quasiroll.worker.model.LoadedModel;
import quasiroll.worker.model.TensorData;
import quasiroll.worker.model.safetensors.SafetensorsFile;

/**
 * The policy versions of one model that a worker holds, each with its own decode loop, and the
 * choice among them per shard: a shard names its version and runs on exactly those weights from its
 * first step to its last, so no sample ever mixes versions (a version is only closed once no shard
 * uses it).
 *
 * <p>A version is the start-up weights (version 0) with some tensors replaced by tensors of
 * safetensors files: its manifest maps each replaced tensor to the file that holds it. Unreplaced
 * tensors are shared with version 0 (the same mapped segments), so a version costs only its
 * replaced tensors. New versions load beside the old ones while the weight budget allows; otherwise
 * {@link #load} first drains (waits for running shards to finish, holding back new ones) and closes
 * the versions no longer kept.
 *
 * <p>Thread-safe: decode threads call {@link #run}, one loader thread calls {@link #load} and
 * {@link #retain}. Does NOT decide which versions exist or are kept: the coordinator does.
 */
public final class PolicyVersions implements AbortableShardRunner, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PolicyVersions.class);

  /** Builds a decode loop over some weights; closing it frees its backend. */
  public interface RunnerBuilder {
    Runner build(LoadedModel weights);
  }

  /** A decode loop and what frees it. */
  public record Runner(ShardRunner runner, AutoCloseable resources) {}

  /** What {@link #load} did: bytes of replaced tensors, whether it had to drain first. */
  public record LoadResult(
      long version, int tensors, long bytes, boolean drained, long loadNanos) {}

  private static final class Version {
    final long number;
    final Runner runner;
    final List<SafetensorsFile> files;
    final long ownBytes;
    int active;
    boolean retired;

    Version(long number, Runner runner, List<SafetensorsFile> files, long ownBytes) {
      this.number = number;
      this.runner = runner;
      this.files = files;
      this.ownBytes = ownBytes;
    }
  }

  private final String modelId;
  private final LoadedModel base;
  private final Map<String, TensorSpec> signature;
  private final RunnerBuilder builder;
  private final long budgetBytes;
  private final TreeMap<Long, Version> versions = new TreeMap<>();
  private boolean draining;
  private volatile java.util.function.LongConsumer onClosed = v -> {};

  /** Called with a version's number once it is closed (its files are no longer mapped). */
  public void onClosed(java.util.function.LongConsumer listener) {
    this.onClosed = listener;
  }

  /**
   * @param base the start-up weights (served as version 0)
   * @param budgetBytes the most bytes of weights all held versions may take together (the start-up
   *     weights included); 0 = no limit
   */
  public PolicyVersions(String modelId, LoadedModel base, RunnerBuilder builder, long budgetBytes) {
    this.modelId = modelId;
    this.base = base;
    this.signature = PolicyCheck.signature(base);
    this.builder = builder;
    this.budgetBytes = budgetBytes;
    versions.put(0L, new Version(0, builder.build(base), List.of(), 0));
    this.batchRows = versions.get(0L).runner.runner().batchRows();
  }

  private final int batchRows;

  /** Every version is decoded by the same kind of runner: the start-up version's batch rows. */
  @Override
  public int batchRows() {
    return batchRows;
  }

  public Map<String, TensorSpec> signature() {
    return signature;
  }

  /** Versions loaded now, ascending. */
  public synchronized List<Long> loaded() {
    List<Long> out = new ArrayList<>();
    for (Version v : versions.values()) {
      if (!v.retired) {
        out.add(v.number);
      }
    }
    return out;
  }

  /** The newest loaded version. */
  public synchronized long newest() {
    return loaded().getLast();
  }

  @Override
  public void run(
      ResolvedShard shard,
      Consumer<SampleResult> out,
      ProgressSink progress,
      BooleanSupplier cancelled,
      BooleanSupplier aborted) {
    Version v = acquire(shard.policyVersion());
    try {
      v.runner.runner().run(shard, out, progress, cancelled, aborted);
    } finally {
      release(v);
    }
  }

  private synchronized Version acquire(long number) {
    while (draining) {
      try {
        wait();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while the worker drained for a policy load");
      }
    }
    Version v = versions.get(number);
    if (v == null || v.retired) {
      throw new BadInputException(
          "policy version "
              + number
              + " of model '"
              + modelId
              + "' is not loaded on this worker (loaded: "
              + loaded()
              + ")");
    }
    v.active++;
    return v;
  }

  private synchronized void release(Version v) {
    v.active--;
    if (v.active == 0 && v.retired) {
      close(v);
      versions.remove(v.number, v);
    }
    notifyAll();
  }

  /**
   * Loads a version beside the others (or after draining, when the budget says so).
   *
   * @param manifest every tensor that differs from version 0, with the file that holds it
   * @param changed the tensors this publish gave (checked for completeness unless partial)
   * @param keep versions still needed (pinned by running groups); others may be closed
   * @throws BadInputException naming the tensor or file when the source is bad; the versions
   *     already loaded keep serving
   */
  public LoadResult load(
      long number,
      Map<String, Path> manifest,
      Collection<String> changed,
      boolean partial,
      Set<Long> keep) {
    long start = System.nanoTime();
    synchronized (this) {
      Version have = versions.get(number);
      if (have != null && !have.retired) {
        return new LoadResult(number, 0, have.ownBytes, false, 0);
      }
    }
    // name where this publish's own tensors are (the others were checked when published)
    TreeSet<String> dirs = new TreeSet<>();
    for (String name : changed) {
      Path p = manifest.get(name);
      if (p != null && p.getParent() != null) {
        dirs.add(p.getParent().toString());
      }
    }
    String source = dirs.isEmpty() ? "version " + number : String.join(", ", dirs);
    List<SafetensorsFile> opened = new ArrayList<>();
    try {
      Map<Path, SafetensorsFile> files = new LinkedHashMap<>();
      Map<String, TensorData> tensors = new LinkedHashMap<>(base.tensors());
      Map<String, TensorSpec> given = new LinkedHashMap<>();
      long ownBytes = 0;
      for (Map.Entry<String, Path> e : manifest.entrySet()) {
        SafetensorsFile f = files.get(e.getValue());
        if (f == null) {
          f = SafetensorsFile.open(e.getValue());
          opened.add(f);
          files.put(e.getValue(), f);
        }
        TensorData t = f.tensors().get(e.getKey());
        if (t == null) {
          throw new BadInputException(
              "policy version "
                  + number
                  + " of model '"
                  + modelId
                  + "': tensor '"
                  + e.getKey()
                  + "' is not in "
                  + e.getValue());
        }
        given.put(t.name(), new TensorSpec(t.name(), t.dtype(), t.shape()));
        tensors.put(t.name(), t);
        ownBytes += t.segment().byteSize();
      }
      PolicyCheck.check(modelId, signature, given, source, true);
      Map<String, TensorSpec> thisPublish = new LinkedHashMap<>();
      for (String name : changed) {
        TensorSpec t = given.get(name);
        if (t == null) {
          throw new BadInputException(
              "policy version "
                  + number
                  + " of model '"
                  + modelId
                  + "': changed tensor '"
                  + name
                  + "' has no file in the manifest");
        }
        thisPublish.put(name, t);
      }
      if (!partial) {
        PolicyCheck.check(modelId, signature, thisPublish, source, false);
      }
      boolean drained = makeRoom(number, ownBytes, keep);
      LoadedModel weights =
          new LoadedModel(
              base.config(),
              tensors,
              base.tokenizer(),
              base.source(),
              base.format(),
              base.ropeInverseFrequencies(),
              List.of());
      Runner runner = builder.build(weights);
      synchronized (this) {
        versions.put(number, new Version(number, runner, List.copyOf(opened), ownBytes));
        draining = false;
        notifyAll();
      }
      retain(keep, number);
      long nanos = System.nanoTime() - start;
      log.info(
          "policy version {} of '{}' loaded: {} tensors, {} bytes, {} ms{}",
          number,
          modelId,
          manifest.size(),
          ownBytes,
          nanos / 1_000_000,
          drained ? " (drained first)" : "");
      return new LoadResult(number, thisPublish.size(), ownBytes, drained, nanos);
    } catch (RuntimeException e) {
      opened.forEach(SafetensorsFile::close);
      synchronized (this) {
        draining = false;
        notifyAll();
      }
      throw e;
    }
  }

  /**
   * When the new version does not fit beside the loaded ones: hold back new shards, wait for the
   * running ones, close every version not kept, and check again.
   */
  private synchronized boolean makeRoom(long number, long newBytes, Set<Long> keep) {
    if (budgetBytes <= 0 || resident() + newBytes <= budgetBytes) {
      return false;
    }
    draining = true;
    while (versions.values().stream().anyMatch(v -> v.active > 0)) {
      try {
        wait();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while draining for policy version " + number);
      }
    }
    for (var it = versions.values().iterator(); it.hasNext(); ) {
      Version v = it.next();
      if (v.number != 0 && !keep.contains(v.number)) {
        close(v);
        it.remove();
      }
    }
    if (resident() + newBytes > budgetBytes) {
      throw new BadInputException(
          "policy version "
              + number
              + " of model '"
              + modelId
              + "' needs "
              + newBytes
              + " bytes but the worker's weight budget of "
              + budgetBytes
              + " bytes holds "
              + resident()
              + " bytes of versions still in use "
              + loaded()
              + " (raise quasiroll.worker.policy-budget-bytes)");
    }
    return true;
  }

  private long resident() {
    long n = base.weightBytes();
    for (Version v : versions.values()) {
      n += v.retired ? 0 : v.ownBytes;
    }
    return n;
  }

  /**
   * Closes every version except version 0, {@code newest} and those in {@code keep}, each as soon
   * as no shard runs on it.
   */
  public synchronized void retain(Set<Long> keep, long newest) {
    for (var it = versions.values().iterator(); it.hasNext(); ) {
      Version v = it.next();
      if (v.number == 0 || v.number == newest || keep.contains(v.number) || v.retired) {
        continue;
      }
      v.retired = true;
      if (v.active == 0) {
        close(v);
      }
    }
    versions.values().removeIf(v -> v.retired && v.active == 0);
  }

  private void close(Version v) {
    try {
      v.runner.resources().close();
    } catch (Exception e) {
      log.warn("closing policy version {} of '{}' failed: {}", v.number, modelId, e.toString());
    }
    v.files.forEach(SafetensorsFile::close);
    if (v.number != 0) {
      try {
        onClosed.accept(v.number);
      } catch (RuntimeException e) {
        log.warn("after closing policy version {} of '{}': {}", v.number, modelId, e.toString());
      }
    }
  }

  @Override
  public synchronized void close() {
    versions.values().forEach(this::close);
    versions.clear();
  }
}
