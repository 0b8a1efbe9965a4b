package quasiroll.worker.runtime.cuda;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import jcuda.driver.CUdeviceptr;
import quasiroll.common.error.BadInputException;
import quasiroll.worker.model.DType;
import quasiroll.worker.model.ModelConfig;
import quasiroll.worker.model.RopeTable;
import quasiroll.worker.model.TensorData;
import quasiroll.worker.model.WeightNames;

/**
 * A model's weights on one device, in the layout of {@link CudaMemoryBudget}: fused q/k/v and
 * gate/up matrices (uploaded part by part straight from the memory-mapped tensors, no host
 * copy), f32 norms and biases, the RoPE cos/sin tables.
 */
final class CudaWeights implements AutoCloseable {
  /** A row-major [rows][cols] matrix of 16-bit (or, for the embedding only, f32) elements. */
  record Matrix(CUdeviceptr ptr, DType dtype, int rows, int cols) {}

  record Layer(
      CUdeviceptr inputNorm,
      Matrix qkv,
      CUdeviceptr qkvBias,
      Matrix o,
      CUdeviceptr postNorm,
      Matrix gateUp,
      Matrix down) {}

  private final CudaDevice device;
  private final List<CUdeviceptr> owned = new ArrayList<>();
  private final List<Long> ownedBytes = new ArrayList<>();
  final Matrix embed;
  final Matrix lmHead;
  final CUdeviceptr finalNorm;
  final Layer[] layers;
  final CUdeviceptr ropeCos;
  final CUdeviceptr ropeSin;

  CudaWeights(CudaDevice device, ModelConfig c, Map<String, TensorData> t) {
    this.device = device;
    int h = c.hiddenSize();
    TensorData e = require(t, WeightNames.EMBED, c.vocabSize(), h);
    this.embed = matrixAsStored(e);
    if (c.tiedEmbeddings() && e.dtype() != DType.F32) {
      this.lmHead = embed;
    } else {
      this.lmHead = fused(List.of(require(t, WeightNames.lmHead(c), c.vocabSize(), h)));
    }
    this.finalNorm = vector(require(t, WeightNames.FINAL_NORM, h));
    int hd = c.headDim();
    int q = c.numHeads() * hd;
    int kv = c.numKvHeads() * hd;
    int inter = c.intermediateSize();
    this.layers = new Layer[c.numLayers()];
    for (int l = 0; l < layers.length; l++) {
      Matrix qkv = fused(List.of(
          require(t, WeightNames.attention(l, 'q'), q, h),
          require(t, WeightNames.attention(l, 'k'), kv, h),
          require(t, WeightNames.attention(l, 'v'), kv, h)));
      CUdeviceptr bias = null;
      if (c.qkvBias()) {
        float[] b = new float[q + 2 * kv];
        System.arraycopy(HostTensors.toFloats(require(t, WeightNames.attentionBias(l, 'q'), q)), 0, b, 0, q);
        System.arraycopy(HostTensors.toFloats(require(t, WeightNames.attentionBias(l, 'k'), kv)), 0, b, q, kv);
        System.arraycopy(HostTensors.toFloats(require(t, WeightNames.attentionBias(l, 'v'), kv)), 0, b, q + kv, kv);
        bias = floats(b);
      }
      layers[l] = new Layer(
          vector(require(t, WeightNames.inputNorm(l), h)),
          qkv,
          bias,
          fused(List.of(require(t, WeightNames.attention(l, 'o'), h, q))),
          vector(require(t, WeightNames.postAttentionNorm(l), h)),
          fused(List.of(
              require(t, WeightNames.mlp(l, "gate"), inter, h),
              require(t, WeightNames.mlp(l, "up"), inter, h))),
          fused(List.of(require(t, WeightNames.mlp(l, "down"), h, inter))));
    }
    RopeTable rope = RopeTable.of(c, c.contextLength());
    this.ropeCos = floats(rope.cos());
    this.ropeSin = floats(rope.sin());
  }

  private static TensorData require(Map<String, TensorData> t, String name, long... shape) {
    TensorData d = t.get(name);
    if (d == null) {
      throw new BadInputException("model has no tensor " + name + " (expected shape "
          + java.util.Arrays.toString(shape) + ")");
    }
    if (!java.util.Arrays.equals(d.shape(), shape)) {
      throw new BadInputException("tensor " + name + " has shape " + java.util.Arrays.toString(d.shape())
          + "; the config implies " + java.util.Arrays.toString(shape));
    }
    return d;
  }

  private CUdeviceptr alloc(long bytes) {
    CUdeviceptr p = device.alloc(bytes);
    owned.add(p);
    ownedBytes.add(bytes);
    return p;
  }

  private CUdeviceptr floats(float[] v) {
    CUdeviceptr p = alloc((long) v.length * Float.BYTES);
    device.upload(p, v);
    return p;
  }

  private CUdeviceptr vector(TensorData t) {
    return floats(HostTensors.toFloats(t));
  }

  private Matrix matrixAsStored(TensorData t) {
    if (t.dtype() != DType.F32 && t.dtype() != DType.F16 && t.dtype() != DType.BF16) {
      HostTensors.deviceType(t); // throws with the explanation
    }
    CUdeviceptr p = alloc(t.dtype().bytesFor(t.elements()));
    device.upload(p, 0, t.data());
    return new Matrix(p, t.dtype(), (int) t.shape()[0], (int) t.shape()[1]);
  }

  /** Row-wise concatenation of matrices with equal column counts, in 16 bits. */
  private Matrix fused(List<TensorData> parts) {
    DType type = HostTensors.deviceType(parts.get(0));
    int rows = 0;
    for (TensorData p : parts) {
      if (HostTensors.deviceType(p) != type) {
        throw new BadInputException("tensors " + parts.get(0).name() + " and " + p.name()
            + " have different element types (" + parts.get(0).dtype() + ", " + p.dtype()
            + "); the CUDA backend fuses them and needs one type");
      }
      rows += (int) p.shape()[0];
    }
    int cols = (int) parts.get(0).shape()[1];
    CUdeviceptr ptr = alloc((long) rows * cols * 2);
    long offset = 0;
    for (TensorData p : parts) {
      ByteBuffer bytes = p.dtype() == DType.F32 ? HostTensors.f32ToBf16(p) : p.data();
      device.upload(ptr, offset, bytes);
      offset += p.elements() * 2;
    }
    return new Matrix(ptr, type, rows, cols);
  }

  @Override
  public void close() {
    for (int i = 0; i < owned.size(); i++) {
      device.free(owned.get(i), ownedBytes.get(i));
    }
    owned.clear();
  }
}
