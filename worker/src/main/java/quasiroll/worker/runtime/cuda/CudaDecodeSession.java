package quasiroll.worker.runtime.cuda;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import jcuda.driver.CUdeviceptr;
import quasiroll.common.error.BadInputException;
import quasiroll.common.sampler.DecodeParams;
import quasiroll.common.sampler.VocabOrder;
import quasiroll.worker.model.ModelConfig;
import quasiroll.worker.runtime.DecodeSession;
import quasiroll.worker.runtime.DeviceChoices;
import quasiroll.worker.runtime.DeviceSampling;

/**
 * One shard's sequences on the GPU. The prompt is prefilled once into a prefix KV cache that every
 * sequence's attention reads (never copied per sequence); each sequence has its own cache slots for
 * up to maxNewTokens generated tokens. All device memory of the session is allocated here, up
 * front, in sizes checked by {@link CudaMemoryBudget} before opening.
 */
final class CudaDecodeSession implements DecodeSession, DeviceSampling {
  /** Device buffers of a session; the forward pass reads and writes these. */
  static final class Buffers {
    int prefixLength;
    int maxNewTokens;
    CUdeviceptr tokens;
    CUdeviceptr positions;
    CUdeviceptr sequences;
    CUdeviceptr hidden;
    CUdeviceptr normed;
    CUdeviceptr qkv;
    CUdeviceptr attn;
    CUdeviceptr gateUp;
    CUdeviceptr act;
    CUdeviceptr partial;
    CUdeviceptr logits;
    CUdeviceptr[] kPrefix;
    CUdeviceptr[] vPrefix;
    CUdeviceptr[] kSeq;
    CUdeviceptr[] vSeq;
  }

  private final CudaDevice device;
  private final CudaTransformer model;
  private final ModelConfig config;
  private final Buffers b = new Buffers();
  private final List<CUdeviceptr> owned = new ArrayList<>();
  private final int maxSequences;
  private final int maxRows;
  private final int[] lengths;
  private final int[] rowInfo;
  private final float[] promptLogits;
  private final CudaSampler sampler;

  /** Rows of the latest device logits; -1 = every row is the prompt's logits (row 0). */
  private int latestRows = -1;

  private boolean closed;

  CudaDecodeSession(
      CudaDevice device,
      CudaTransformer model,
      ModelConfig config,
      int[] prompt,
      int maxSequences,
      int maxNewTokens) {
    this.device = device;
    this.model = model;
    this.config = config;
    this.maxSequences = maxSequences;
    int p = prompt.length;
    this.maxRows = CudaMemoryBudget.maxRows(p, maxSequences);
    this.lengths = new int[maxSequences];
    Arrays.fill(lengths, p);
    this.rowInfo = new int[3 * maxRows];
    this.sampler = new CudaSampler(device, maxSequences);
    b.prefixLength = p;
    b.maxNewTokens = maxNewTokens;
    try {
      allocate(p, maxNewTokens);
      prefill(prompt);
      this.promptLogits = new float[config.vocabSize()];
      device.download(promptLogits, config.vocabSize(), b.logits);
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  private CUdeviceptr alloc(long bytes) {
    CUdeviceptr ptr = device.alloc(bytes);
    owned.add(ptr);
    return ptr;
  }

  private void allocate(int p, int maxNew) {
    ModelConfig c = config;
    long f = Float.BYTES;
    int h = c.hiddenSize();
    int qkv = (c.numHeads() + 2 * c.numKvHeads()) * c.headDim();
    int inter = c.intermediateSize();
    CUdeviceptr info = alloc(3L * maxRows * Integer.BYTES);
    b.tokens = info;
    b.positions = info.withByteOffset((long) maxRows * Integer.BYTES);
    b.sequences = info.withByteOffset(2L * maxRows * Integer.BYTES);
    b.hidden = alloc(maxRows * (long) h * f);
    b.normed = alloc(maxRows * (long) h * f);
    b.qkv = alloc(maxRows * (long) qkv * f);
    b.attn = alloc(maxRows * (long) c.numHeads() * c.headDim() * f);
    b.gateUp = alloc(maxRows * 2L * inter * f);
    b.act = alloc(maxRows * (long) inter * f);
    b.partial = alloc(CudaMemoryBudget.maxPartialFloats(c, maxRows) * f);
    b.logits = alloc((long) Math.max(1, maxSequences) * c.vocabSize() * f);
    long kvRow = (long) c.numKvHeads() * c.headDim() * f;
    int layers = c.numLayers();
    b.kPrefix = new CUdeviceptr[layers];
    b.vPrefix = new CUdeviceptr[layers];
    b.kSeq = new CUdeviceptr[layers];
    b.vSeq = new CUdeviceptr[layers];
    CUdeviceptr prefix = alloc(2L * layers * p * kvRow);
    CUdeviceptr seq = alloc(2L * layers * maxSequences * maxNew * kvRow);
    for (int l = 0; l < layers; l++) {
      b.kPrefix[l] = prefix.withByteOffset((2L * l) * p * kvRow);
      b.vPrefix[l] = prefix.withByteOffset((2L * l + 1) * p * kvRow);
      b.kSeq[l] = seq.withByteOffset((2L * l) * maxSequences * maxNew * kvRow);
      b.vSeq[l] = seq.withByteOffset((2L * l + 1) * maxSequences * maxNew * kvRow);
    }
  }

  private void uploadRows(int n) {
    // rowInfo is [tokens | positions | sequences], each maxRows long, as on the device.
    device.upload(b.tokens, rowInfo, 3 * maxRows);
  }

  private void prefill(int[] prompt) {
    int p = prompt.length;
    for (int start = 0; start < p; start += CudaMemoryBudget.PREFILL_CHUNK) {
      int n = Math.min(CudaMemoryBudget.PREFILL_CHUNK, p - start);
      for (int j = 0; j < n; j++) {
        rowInfo[j] = prompt[start + j];
        rowInfo[maxRows + j] = start + j;
        rowInfo[2 * maxRows + j] = -1;
      }
      uploadRows(n);
      boolean last = start + n == p;
      model.forward(b, n, last ? n - 1 : n);
    }
  }

  @Override
  public float[] promptLogits() {
    return promptLogits.clone();
  }

  @Override
  public void step(int[] sequences, int[] tokens, int n, float[] logits) {
    stepOnDevice(sequences, tokens, n);
    device.download(logits, n * config.vocabSize(), b.logits);
  }

  @Override
  public void stepOnDevice(int[] sequences, int[] tokens, int n) {
    requireOpen();
    if (n < 1 || n > maxSequences) {
      throw new IllegalArgumentException(
          "step of " + n + " rows; the session holds 1.." + maxSequences);
    }
    device.bind();
    for (int j = 0; j < n; j++) {
      int s = sequences[j];
      if (s < 0 || s >= maxSequences || lengths[s] < 0) {
        throw new IllegalArgumentException("sequence " + s + " is not live in this session");
      }
      if (lengths[s] >= b.prefixLength + b.maxNewTokens) {
        throw new IllegalArgumentException(
            "sequence "
                + s
                + " already holds "
                + lengths[s]
                + " tokens, the session's limit (prompt + maxNewTokens)");
      }
      int t = tokens[j];
      if (t < 0 || t >= config.vocabSize()) {
        throw new IllegalArgumentException(
            "token " + t + " is outside the vocabulary [0, " + config.vocabSize() + ")");
      }
      rowInfo[j] = t;
      rowInfo[maxRows + j] = lengths[s];
      rowInfo[2 * maxRows + j] = s;
    }
    uploadRows(n);
    model.forward(b, n, 0);
    for (int j = 0; j < n; j++) {
      lengths[sequences[j]]++;
    }
    latestRows = n;
  }

  @Override
  public boolean samplesOnDevice(DecodeParams params) {
    return params.vocabOrder() == VocabOrder.ID;
  }

  @Override
  public void sample(int n, long[] codes, DecodeParams params, DeviceChoices out) {
    requireOpen();
    if (!samplesOnDevice(params)) {
      throw new BadInputException(
          "vocab order "
              + params.vocabOrder().shortName()
              + " is sampled on the host; the GPU sampler supports vocab order id");
    }
    if (n < 1 || n > maxSequences || (latestRows >= 0 && n > latestRows) || out.capacity() < n) {
      throw new IllegalArgumentException(
          "sample of "
              + n
              + " rows; the latest logits have "
              + (latestRows < 0 ? maxSequences + " (prompt)" : latestRows)
              + ", output holds "
              + out.capacity());
    }
    device.bind();
    long stride = latestRows < 0 ? 0 : config.vocabSize();
    sampler.sample(b.logits, stride, config.vocabSize(), n, codes, params, out);
  }

  @Override
  public int length(int sequence) {
    return Math.max(0, lengths[sequence]);
  }

  @Override
  public void release(int sequence) {
    // Slots are preallocated; a released sequence simply stops being stepped.
    lengths[sequence] = -1;
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException("session is closed");
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    device.bind();
    for (int i = 0; i < owned.size(); i++) {
      device.free(owned.get(i));
    }
    owned.clear();
    sampler.close();
  }
}
