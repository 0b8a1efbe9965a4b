package quasiroll.common.archfixture.b;

import quasiroll.common.archfixture.a.CycleA;

/** Deliberately bad fixture for ArchitectureRulesCanFailTest: the other half of the cycle. */
public final class CycleB {
  public CycleA back() {
    return new CycleA();
  }
}
