package quasiroll.common.archfixture.a;

import quasiroll.common.archfixture.b.CycleB;

/**
 * Deliberately bad fixture for ArchitectureRulesCanFailTest: package a and package b depend on each
 * other (a cycle); common also reaches up into the worker module.
 */
public final class CycleA {
  public CycleB next() {
    return new CycleB();
  }

  public Class<?> upward() {
    return quasiroll.worker.engine.ResolvedShard.class;
  }
}
