package ai.chunkwise.train.cli;

import ai.chunkwise.pipeline.cli.ExitCodes;
import ai.chunkwise.train.backend.CpuBuild;
import ai.chunkwise.train.backend.GpuSupportCheck;
import ai.chunkwise.train.backend.GradientSelfCheck;
import ai.chunkwise.train.memory.MemoryEstimate;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code doctor}: what this installation runs on (the backend, the CPU build or the GPUs with their compute
 * capability and whether ND4J's build has kernels for them, the memory budget), then a float64 gradient check of
 * a tiny bundled Llama against Hugging Face transformers' own gradients ({@link GradientSelfCheck}). On a new
 * machine or GPU this is how to prove the setup computes the right thing. Exit 0 when the check passes, 1 when it
 * does not.
 */
@Command(name = "doctor", mixinStandardHelpOptions = true,
        description = {"Print the backend (CPU build, or GPU, compute capability and kernel support) and the memory "
                + "budget, then check float64 gradients of a tiny bundled Llama against transformers' reference."})
final class DoctorCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        boolean cuda = GpuSupportCheck.cudaBackendOnClasspath();
        out.println("backend:  " + (cuda ? "CUDA (nd4j-cuda)" : "CPU, native build " + CpuBuild.describe())
                + ", " + Runtime.getRuntime().availableProcessors() + " cores, OMP_NUM_THREADS="
                + env("OMP_NUM_THREADS"));
        if (cuda) {
            List<String> gpus = GpuSupportCheck.describeGpus();
            for (int i = 0; i < gpus.size(); i++) {
                out.println("gpu " + i + ":    " + gpus.get(i));
            }
            String problem = GpuSupportCheck.problem();
            if (problem != null) {   // before ND4J loads: its kernels would fail obscurely on this card
                out.println("doctor: FAILED: " + problem);
                out.flush();
                return ExitCodes.FAILED;
            }
        }
        boolean limitSet = System.getProperty("org.bytedeco.javacpp.maxPhysicalBytes") != null;
        out.printf(Locale.ROOT, "memory:   %.2f GiB for native arrays: the smaller of JavaCPP's maxPhysicalBytes (%s, "
                        + "%.2f GiB) and the machine's %.2f GiB; train refuses a run whose estimate exceeds it. JVM heap "
                        + "up to %.2f GiB%n", gib(MemoryEstimate.availableBytes()),
                limitSet ? "set with -Dorg.bytedeco.javacpp.maxPhysicalBytes" : "its default; "
                        + "-Dorg.bytedeco.javacpp.maxPhysicalBytes=<bytes> sets it", gib(Pointer.maxPhysicalBytes()),
                gib(Pointer.totalPhysicalBytes()), gib(Runtime.getRuntime().maxMemory()));
        out.println("nd4j:     " + Nd4j.getBackend().getClass().getSimpleName() + " loaded");
        out.println("check:    float64 loss and gradients of a tiny Llama (2 layers, tied embeddings, llama3 rope) "
                + "against transformers, tolerance " + GradientSelfCheck.TOLERANCE + " relative");
        out.flush();
        boolean ok = true;
        for (GradientSelfCheck.Outcome o : GradientSelfCheck.run()) {
            out.printf(Locale.ROOT, "  %-22s loss %.1e, worst gradient %.1e (%s): %s%n", o.engine(), o.lossError(),
                    o.worstGradientError(), o.worstTensor(), o.passed() ? "ok" : "FAILED");
            ok &= o.passed();
        }
        out.println(ok ? "doctor: this backend computes the reference gradients"
                : "doctor: FAILED: this backend does not compute the reference gradients; do not train with it "
                        + "(report the lines above with the output of --version)");
        out.flush();
        return ok ? ExitCodes.OK : ExitCodes.FAILED;
    }

    private static String env(String name) {
        String v = System.getenv(name);
        return v == null ? "unset" : v;
    }

    private static double gib(long bytes) {
        return bytes / (double) (1L << 30);
    }
}
