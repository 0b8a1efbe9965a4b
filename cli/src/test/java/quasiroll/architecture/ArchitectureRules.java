package quasiroll.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import java.util.Collection;
import java.util.Set;
import java.util.stream.Collectors;
import quasiroll.cluster.wire.ToCoordinator;
import quasiroll.cluster.wire.ToWorker;

/**
 * The module layout as rules: proto → common → cluster → {worker, coordinator} → sweep → cli, no
 * package cycles, and a Kryo id for every wire message. {@link ArchitectureTest} checks the real
 * classes with them; {@link ArchitectureRulesCanFailTest} shows each one reporting a violation on a
 * deliberately bad fixture.
 */
final class ArchitectureRules {
  private ArchitectureRules() {}

  /** The coordinator and the worker meet only in the cluster module's contract. */
  static final ArchRule COORDINATOR_DOES_NOT_IMPORT_WORKER =
      noClasses()
          .that()
          .resideInAPackage("quasiroll.coordinator..")
          .should()
          .dependOnClassesThat()
          .resideInAPackage("quasiroll.worker..")
          .because("the coordinator and the worker share only the cluster module's wire contract");

  static final ArchRule WORKER_DOES_NOT_IMPORT_COORDINATOR =
      noClasses()
          .that()
          .resideInAPackage("quasiroll.worker..")
          .should()
          .dependOnClassesThat()
          .resideInAPackage("quasiroll.coordinator..")
          .because("the coordinator and the worker share only the cluster module's wire contract");

  /** The lower layers know nothing of the node kinds, sweeps or the command line. */
  static final ArchRule LOWER_LAYERS_DO_NOT_IMPORT_UPPER =
      noClasses()
          .that()
          .resideInAnyPackage("quasiroll.common..", "quasiroll.cluster..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(
              "quasiroll.worker..",
              "quasiroll.coordinator..",
              "quasiroll.sweep..",
              "quasiroll.cli..")
          .because(
              "arrows point one way: proto → common → cluster → {worker, coordinator} → sweep →"
                  + " cli");

  /** Every package is a slice; no two packages may depend on each other, directly or not. */
  static final ArchRule NO_PACKAGE_CYCLES =
      slices().matching("quasiroll.(**)").should().beFreeOfCycles();

  /**
   * Every class that implements a wire interface ({@link ToWorker}, {@link ToCoordinator}) has a
   * Kryo id in {@code kryoIds}, unless it is a node-local message ({@code Local}).
   */
  static ArchRule wireMessagesHaveKryoIds(Collection<Class<?>> kryoIds) {
    Set<String> registered = kryoIds.stream().map(Class::getName).collect(Collectors.toSet());
    DescribedPredicate<JavaClass> wireMessage =
        DescribedPredicate.describe(
            "implement a wire interface (ToWorker, ToCoordinator) and are not node-local",
            c ->
                !c.isInterface()
                    && (c.isAssignableTo(ToWorker.class) || c.isAssignableTo(ToCoordinator.class))
                    && !c.isAssignableTo(ToWorker.Local.class)
                    && !c.isAssignableTo(ToCoordinator.Local.class));
    ArchCondition<JavaClass> haveAKryoId =
        new ArchCondition<>("have a Kryo id in KryoClusterSerializer.IDS") {
          @Override
          public void check(JavaClass c, ConditionEvents events) {
            boolean ok = registered.contains(c.getName());
            events.add(
                new SimpleConditionEvent(
                    c,
                    ok,
                    c.getName()
                        + (ok ? " has" : " has no")
                        + " Kryo id in KryoClusterSerializer.IDS"));
          }
        };
    return classes().that(wireMessage).should(haveAKryoId).allowEmptyShould(true);
  }
}
