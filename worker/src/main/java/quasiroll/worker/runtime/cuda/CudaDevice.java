package quasiroll.worker.runtime.cuda;

import static jcuda.driver.JCudaDriver.cuCtxCreate;
import static jcuda.driver.JCudaDriver.cuCtxDestroy;
import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuCtxSynchronize;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemGetInfo;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;

/**
 * One CUDA device through the JCuda driver API: its context, the kernel modules (committed PTX,
 * JIT-compiled by the driver), device memory and kernel launches. Only this class and its package
 * touch JCuda, and only once a CUDA device is asked for: a CPU-only machine never loads the JCuda
 * natives. Every entry point of the backend and its sessions first makes the context current on the
 * calling thread, so they can be driven from any thread; all work goes to the default stream, so
 * concurrent sessions interleave whole operations (each session has its own buffers, and no
 * kernel's result depends on what else runs).
 */
final class CudaDevice implements AutoCloseable {
  /** Set once the JCuda natives failed to load: later attempts repeat the first reason. */
  private static volatile String nativeFailure;

  private final int index;
  private final CUcontext context = new CUcontext();
  private final String name;
  private final long totalBytes;
  private final int multiprocessors;
  private final int computeCapability;
  private final Map<String, CUmodule> modules = new HashMap<>();
  private final Map<String, CUfunction> functions = new HashMap<>();

  private CudaDevice(int index, CUdevice device) {
    this.index = index;
    cuCtxCreate(context, 0, device);
    byte[] nameBytes = new byte[256];
    cuDeviceGetName(nameBytes, nameBytes.length, device);
    int len = 0;
    while (len < nameBytes.length && nameBytes[len] != 0) {
      len++;
    }
    this.name = new String(nameBytes, 0, len, java.nio.charset.StandardCharsets.US_ASCII);
    long[] total = new long[1];
    cuDeviceTotalMem(total, device);
    this.totalBytes = total[0];
    int[] v = new int[1];
    cuDeviceGetAttribute(v, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device);
    this.multiprocessors = v[0];
    int[] major = new int[1];
    int[] minor = new int[1];
    cuDeviceGetAttribute(
        major, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
    cuDeviceGetAttribute(
        minor, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
    this.computeCapability = major[0] * 10 + minor[0];
  }

  /**
   * Opens device {@code cuda:index}.
   *
   * @throws CudaUnavailableException naming what is missing: JCuda on the class path, its natives
   *     for this platform, the driver library libcuda.so.1, a device with that index, or a device
   *     new enough for the kernels (compute capability 8.0, bf16 tensor cores)
   */
  static CudaDevice open(int index) {
    String asked = "cuda:" + index;
    if (nativeFailure != null) {
      throw new CudaUnavailableException(nativeFailure, null);
    }
    try {
      JCudaDriver.setExceptionsEnabled(true);
    } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
      nativeFailure = missingNativesMessage(asked, e);
      throw new CudaUnavailableException(nativeFailure, e);
    }
    int[] count = new int[1];
    try {
      cuInit(0);
      cuDeviceGetCount(count);
    } catch (CudaException e) {
      throw new CudaUnavailableException(
          asked
              + " was asked for but the CUDA driver found no usable GPU ("
              + e.getMessage()
              + "); check nvidia-smi, or use --device cpu",
          e);
    }
    if (index >= count[0]) {
      throw new CudaUnavailableException(
          asked
              + " is not a device here: the driver sees "
              + count[0]
              + " CUDA device(s)"
              + (count[0] > 0 ? " (cuda:0.." + "cuda:" + (count[0] - 1) + ")" : "")
              + "; use one of those or --device cpu",
          null);
    }
    CUdevice device = new CUdevice();
    cuDeviceGet(device, index);
    CudaDevice d = new CudaDevice(index, device);
    if (d.computeCapability < 80) {
      d.close();
      throw new CudaUnavailableException(
          asked
              + " ("
              + d.name
              + ") has compute capability "
              + d.computeCapability / 10
              + "."
              + d.computeCapability % 10
              + "; the CUDA backend's bf16 tensor-core kernels need"
              + " 8.0 or newer (A100, H100, RTX 30xx+); use --device cpu",
          null);
    }
    return d;
  }

  /** What to tell the user when the JCuda natives (or the driver they link to) don't load. */
  static String missingNativesMessage(String asked, Throwable e) {
    StringBuilder all = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      all.append(t.getMessage()).append(' ');
      for (Throwable s : t.getSuppressed()) {
        all.append(s.getMessage()).append(' ');
      }
    }
    String detail = all.toString();
    if (e instanceof NoClassDefFoundError && !detail.contains("jcuda.driver.JCudaDriver")) {
      return asked
          + " was asked for but JCuda (org.jcuda:jcuda) is not on the class path;"
          + " use --device cpu";
    }
    if (detail.contains("libcuda.so")) {
      return asked
          + " was asked for but the NVIDIA driver library libcuda.so.1 is not"
          + " installed or not on the library path (no NVIDIA driver on this machine?);"
          + " install the driver (nvidia-smi must work) or use --device cpu";
    }
    String os = System.getProperty("os.name") + "/" + System.getProperty("os.arch");
    return asked
        + " was asked for but the JCuda driver natives could not be loaded on "
        + os
        + " (JCuda ships natives for linux-x86_64 and windows-x86_64 via"
        + " org.jcuda:jcuda-natives): "
        + detail.trim()
        + "; use --device cpu";
  }

  /** Makes this device's context current on the calling thread. */
  void bind() {
    cuCtxSetCurrent(context);
  }

  /** Loads (once) and returns a kernel; synchronized: sessions may open on several threads. */
  synchronized CUfunction function(String module, String entry) {
    String key = module + "/" + entry;
    CUfunction f = functions.get(key);
    if (f == null) {
      CUmodule m = modules.get(module);
      if (m == null) {
        m = new CUmodule();
        cuModuleLoadData(m, PtxResources.image(module));
        modules.put(module, m);
      }
      f = new CUfunction();
      cuModuleGetFunction(f, m, entry);
      functions.put(key, f);
    }
    return f;
  }

  /** A zeroed-out {@link CUdeviceptr} stands for a null pointer argument. */
  static final CUdeviceptr NULL = new CUdeviceptr();

  CUdeviceptr alloc(long bytes) {
    CUdeviceptr p = new CUdeviceptr();
    cuMemAlloc(p, Math.max(bytes, 16));
    return p;
  }

  void free(CUdeviceptr p) {
    cuMemFree(p);
  }

  /**
   * Copies the first {@code bytes} bytes of {@code src} (a mapped tensor or a native segment; any
   * size) to dst + byteOffset, in {@link HostChunks} (a ByteBuffer view holds at most 2 GiB).
   */
  void upload(CUdeviceptr dst, long byteOffset, MemorySegment src, long bytes) {
    if (src.byteSize() < bytes) {
      throw new IllegalArgumentException(
          "segment of " + src.byteSize() + " bytes; " + bytes + " needed");
    }
    for (HostChunks.Chunk c : HostChunks.of(bytes)) {
      ByteBuffer view = src.asSlice(c.offset(), c.bytes()).asByteBuffer();
      cuMemcpyHtoD(dst.withByteOffset(byteOffset + c.offset()), Pointer.to(view), c.bytes());
    }
  }

  void upload(CUdeviceptr dst, float[] src) {
    cuMemcpyHtoD(dst, Pointer.to(src), (long) src.length * Float.BYTES);
  }

  void upload(CUdeviceptr dst, int[] src, int n) {
    cuMemcpyHtoD(dst, Pointer.to(src), (long) n * Integer.BYTES);
  }

  void upload(CUdeviceptr dst, long[] src, int n) {
    cuMemcpyHtoD(dst, Pointer.to(src), (long) n * Long.BYTES);
  }

  void download(float[] dst, int n, CUdeviceptr src) {
    cuMemcpyDtoH(Pointer.to(dst), src, (long) n * Float.BYTES);
  }

  void download(int[] dst, int n, CUdeviceptr src) {
    cuMemcpyDtoH(Pointer.to(dst), src, (long) n * Integer.BYTES);
  }

  void download(double[] dst, int n, CUdeviceptr src) {
    cuMemcpyDtoH(Pointer.to(dst), src, (long) n * Double.BYTES);
  }

  void download(long[] dst, int n, CUdeviceptr src) {
    cuMemcpyDtoH(Pointer.to(dst), src, (long) n * Long.BYTES);
  }

  /**
   * Launches {@code f} on the default stream. Arguments: CUdeviceptr, Integer, Long, Float, Double,
   * in the kernel's parameter order.
   */
  void launch(CUfunction f, int gx, int gy, int gz, int block, Object... args) {
    Pointer[] ps = new Pointer[args.length];
    for (int i = 0; i < args.length; i++) {
      Object a = args[i];
      if (a instanceof CUdeviceptr p) {
        ps[i] = Pointer.to(p);
      } else if (a instanceof Integer v) {
        ps[i] = Pointer.to(new int[] {v});
      } else if (a instanceof Long v) {
        ps[i] = Pointer.to(new long[] {v});
      } else if (a instanceof Float v) {
        ps[i] = Pointer.to(new float[] {v});
      } else if (a instanceof Double v) {
        ps[i] = Pointer.to(new double[] {v});
      } else {
        throw new IllegalArgumentException("kernel argument " + i + " has unsupported type " + a);
      }
    }
    cuLaunchKernel(f, gx, gy, gz, block, 1, 1, 0, null, Pointer.to(ps), null);
  }

  void synchronize() {
    cuCtxSynchronize();
  }

  long freeBytes() {
    long[] free = new long[1];
    long[] total = new long[1];
    cuMemGetInfo(free, total);
    return free[0];
  }

  int index() {
    return index;
  }

  String name() {
    return name;
  }

  long totalBytes() {
    return totalBytes;
  }

  int multiprocessors() {
    return multiprocessors;
  }

  @Override
  public void close() {
    cuCtxDestroy(context);
  }

  @Override
  public String toString() {
    return "cuda:" + index + " (" + name + ", " + totalBytes / (1 << 20) + " MiB)";
  }
}
