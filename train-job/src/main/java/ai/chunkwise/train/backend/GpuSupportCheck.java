package ai.chunkwise.train.backend;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Start-up check for the CUDA build ({@code mvn -Pcuda}): ND4J 1.0.0-M2.1's nd4j-cuda-11.6 ships kernels for
 * compute capabilities 3.7 to 8.6 only and no PTX, and does not check the GPU itself: on a Hopper (sm_90) or newer
 * card it fails at the first kernel launch with CUDA's generic "no kernel image is available". So before ND4J
 * loads, ask nvidia-smi what the GPUs are and stop with a message that names the card and what to do.
 */
public final class GpuSupportCheck {
    /** The newest architecture nd4j-cuda-11.6 1.0.0-M2.1 has kernels for (sm_86, Ampere). */
    static final double NEWEST_SUPPORTED = 8.6;
    private static final String CUDA_BACKEND = "org.nd4j.linalg.jcublas.JCublasBackend";

    private GpuSupportCheck() {
    }

    /** True when this build carries ND4J's CUDA backend (the -Pcuda profile) instead of the CPU one. */
    public static boolean cudaBackendOnClasspath() {
        try {
            Class.forName(CUDA_BACKEND, false, GpuSupportCheck.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    /** What stops the CUDA build on this machine's GPUs, or null (also null for the CPU build). */
    public static String problem() {
        return cudaBackendOnClasspath() ? problemWith(queryGpus()) : null;
    }

    /** Runs the check when the CUDA backend is on the class path; throws with a clear message if it can't run. */
    public static void requireSupportedGpu() {
        if (!cudaBackendOnClasspath()) {
            return;
        }
        String problem = problemWith(queryGpus());
        if (problem != null) {
            throw new IllegalStateException(problem);
        }
    }

    /**
     * For {@code doctor}: each GPU nvidia-smi lists, with its compute capability and whether this ND4J build has
     * kernels for it (3.7 to {@value #NEWEST_SUPPORTED}).
     */
    public static List<String> describeGpus() {
        List<String> out = new ArrayList<>();
        for (String line : queryGpus()) {
            int comma = line.lastIndexOf(',');
            String name = comma < 0 ? line.strip() : line.substring(0, comma).strip();
            String cap = comma < 0 ? "?" : line.substring(comma + 1).strip();
            boolean kernels;
            try {
                double c = Double.parseDouble(cap);
                kernels = c >= 3.7 && c <= NEWEST_SUPPORTED;
            } catch (NumberFormatException e) {
                kernels = false;
            }
            out.add(name + ", compute capability " + cap + ": " + (kernels ? "ND4J's build has kernels for it"
                    : "NO kernels in ND4J's build (it has 3.7 to " + NEWEST_SUPPORTED + ")"));
        }
        return out;
    }

    /** One "name, compute_cap" line per GPU, as nvidia-smi prints them. */
    static List<String> queryGpus() {
        try {
            Process p = new ProcessBuilder("nvidia-smi", "--query-gpu=name,compute_cap", "--format=csv,noheader")
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("this is the CUDA build of train-job, but nvidia-smi failed: "
                        + out.strip() + ". Check the NVIDIA driver, or use the CPU build (mvn package without -Pcuda)");
            }
            return out.lines().filter(l -> !l.isBlank()).toList();
        } catch (IOException e) {
            throw new IllegalStateException("this is the CUDA build of train-job, but nvidia-smi cannot be run ("
                    + e.getMessage() + "): no NVIDIA driver? Use the CPU build (mvn package without -Pcuda)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while querying the GPUs", e);
        }
    }

    /** The message to stop with for these nvidia-smi lines, or null when every GPU is supported. */
    static String problemWith(List<String> gpus) {
        if (gpus.isEmpty()) {
            return "this is the CUDA build of train-job, but nvidia-smi lists no GPU; use the CPU build "
                    + "(mvn package without -Pcuda)";
        }
        List<String> unsupported = new ArrayList<>();
        for (String line : gpus) {
            int comma = line.lastIndexOf(',');
            String name = comma < 0 ? line.strip() : line.substring(0, comma).strip();
            String cap = comma < 0 ? "" : line.substring(comma + 1).strip();
            double capability;
            try {
                capability = Double.parseDouble(cap);
            } catch (NumberFormatException e) {
                return "cannot read the compute capability of GPU '" + name + "' from nvidia-smi ('" + line
                        + "'): update the NVIDIA driver (nvidia-smi --query-gpu=compute_cap needs R510 or newer)";
            }
            if (capability > NEWEST_SUPPORTED) {
                unsupported.add(name + " (compute capability " + cap + ")");
            }
        }
        if (unsupported.isEmpty()) {
            return null;
        }
        return "ND4J 1.0.0-M2.1's CUDA backend has kernels up to compute capability " + NEWEST_SUPPORTED
                + " (Ampere, e.g. A100, RTX 3090) and cannot run on " + String.join(", ", unsupported)
                + ". Use the CPU build (mvn package without -Pcuda), or a GPU of compute capability <= "
                + NEWEST_SUPPORTED + "; CUDA_VISIBLE_DEVICES can hide unsupported cards.";
    }
}
