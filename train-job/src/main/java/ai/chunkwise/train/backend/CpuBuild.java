package ai.chunkwise.train.backend;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * Picks which of ND4J's native CPU builds loads, before ND4J does. The jar carries two (train-job/pom.xml):
 * {@code linux-x86_64-onednn-avx2} (oneDNN statically linked: its matmul and softmax kernels make a SeCO step
 * ~25% faster than the plain avx2 build, same float64 results) for CPUs with AVX2 and FMA, and the plain
 * {@code linux-x86_64} build for any other x86-64 CPU. JavaCPP chooses by its system property
 * {@value #PROPERTY}; left unset it would take the oneDNN/AVX2 build whatever the CPU, which crashes with an
 * illegal instruction where AVX2 is missing. A value the user sets ({@code -D}{@value #PROPERTY}{@code =...})
 * is kept as it is.
 */
public final class CpuBuild {
    public static final String PROPERTY = "org.bytedeco.javacpp.platform.extension";
    static final String ONEDNN_AVX2 = "-onednn-avx2";
    static final String PLAIN = "";
    private static final String BINDINGS = "org/nd4j/linalg/cpu/nativecpu/bindings/linux-x86_64";

    private CpuBuild() {
    }

    /**
     * Sets {@value #PROPERTY} unless already set (or the CUDA build is on the class path, which has one native
     * build); returns the extension in force ("" = the plain build).
     */
    public static synchronized String select() {
        if (GpuSupportCheck.cudaBackendOnClasspath()) {
            return "";
        }
        String chosen = System.getProperty(PROPERTY);
        if (chosen == null) {
            chosen = choose(cpuFlags(), onClassPath(ONEDNN_AVX2));
            System.setProperty(PROPERTY, chosen);
        }
        return chosen;
    }

    /** A short name for reports: "linux-x86_64-onednn-avx2", or "cuda" under the CUDA build. */
    public static String describe() {
        if (GpuSupportCheck.cudaBackendOnClasspath()) {
            return "cuda";
        }
        String ext = System.getProperty(PROPERTY);
        return "linux-x86_64" + (ext == null ? " (JavaCPP's default)" : ext);
    }

    static String choose(Set<String> cpuFlags, boolean oneDnnAvx2Present) {
        return oneDnnAvx2Present && cpuFlags.contains("avx2") && cpuFlags.contains("fma") ? ONEDNN_AVX2 : PLAIN;
    }

    private static boolean onClassPath(String extension) {
        return CpuBuild.class.getClassLoader().getResource(BINDINGS + extension + "/libjnind4jcpu.so") != null;
    }

    /** The "flags" of /proc/cpuinfo (Linux); empty where it cannot be read, which selects the plain build. */
    static Set<String> cpuFlags() {
        Set<String> flags = new HashSet<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("flags")) {
                    int colon = line.indexOf(':');
                    for (String f : line.substring(colon + 1).trim().split("\\s+")) {
                        flags.add(f);
                    }
                    break;
                }
            }
        } catch (IOException | RuntimeException e) {
            return Set.of();
        }
        return flags;
    }
}
