package ai.chunkwise.train.bench;

import ai.chunkwise.train.backend.CpuBuild;

import java.io.File;
import java.lang.management.ManagementFactory;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The command line of a child JVM that runs one measurement with this benchmark's own class path (this jar, or
 * the classes directory, found from its code source, plus whatever the parent's class path holds, as absolute
 * paths) and this JVM's options (heap size, JavaCPP limits), with one OpenMP/OpenBLAS thread.
 */
public final class ChildJvm {
    /** What Spark and Arrow need on Java 17 (the jar's manifest gives them to `java -jar` only). */
    private static final List<String> OPENS = List.of("java.base/java.nio", "java.base/sun.nio.ch",
            "java.base/java.lang", "java.base/java.lang.invoke", "java.base/java.util",
            "java.base/java.util.concurrent", "java.base/sun.nio.cs", "java.base/sun.security.action",
            "java.base/sun.util.calendar", "java.base/java.io", "java.base/java.net", "java.base/java.lang.reflect");

    private ChildJvm() {
    }

    public static ProcessBuilder of(Class<?> mainClass, List<String> args) {
        return of(mainClass, args, List.of());
    }

    /** @param jvmOptions added after the parent's options, so they win (e.g. another -D value) */
    public static ProcessBuilder of(Class<?> mainClass, List<String> args, List<String> jvmOptions) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String opens : OPENS) {
            cmd.add("--add-opens=" + opens + "=ALL-UNNAMED");
        }
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        String build = System.getProperty(CpuBuild.PROPERTY);   // the parent's choice of ND4J's native build
        if (build != null) {
            cmd.add("-D" + CpuBuild.PROPERTY + "=" + build);
        }
        cmd.addAll(jvmOptions);
        cmd.add("-cp");
        cmd.add(classPath());
        cmd.add(mainClass.getName());
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("OMP_NUM_THREADS", "1");
        pb.environment().put("OPENBLAS_NUM_THREADS", "1");
        return pb;
    }

    /** This benchmark's code source first, then the parent's class path, every entry absolute. */
    static String classPath() {
        Set<String> entries = new LinkedHashSet<>();
        entries.add(codeSource().toString());
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!e.isEmpty()) {
                entries.add(Path.of(e).toAbsolutePath().normalize().toString());
            }
        }
        return String.join(File.pathSeparator, entries);
    }

    /** bench.jar (or target/classes when run from the build). */
    static Path codeSource() {
        try {
            return Path.of(ChildJvm.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toAbsolutePath();
        } catch (URISyntaxException e) {
            throw new IllegalStateException("cannot locate the benchmark's own jar: " + e.getMessage(), e);
        }
    }
}
