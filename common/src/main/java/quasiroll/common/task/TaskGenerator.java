package quasiroll.common.task;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import quasiroll.common.noise.KeyedHash;

/**
 * Makes seeded task instances. Instance i of seed s depends only on (s, i) and the generator's
 * parameters, so {@code generate(s, n)} is a prefix of {@code generate(s, n + m)} and identical on
 * every JVM.
 */
public interface TaskGenerator {
  /** Domain constant separating instance seeds from other uses of the job seed. */
  long DOMAIN_TASK = 0x5441534b00000001L; // "TASK\0\0\0\1"

  /** The generator's name, as the CLI's {@code --task} takes it; prefixes every id. */
  String name();

  /** Instance {@code index} drawn with {@code random}, which is private to this instance. */
  TaskPrompt instance(String id, SplittableRandom random);

  default List<TaskPrompt> generate(long seed, int n) {
    if (n < 0) {
      throw new IllegalArgumentException("n must be >= 0, got " + n);
    }
    List<TaskPrompt> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      long instanceSeed = KeyedHash.hash(seed, DOMAIN_TASK, i);
      out.add(instance(name() + "-" + seed + "-" + i, new SplittableRandom(instanceSeed)));
    }
    return out;
  }
}
