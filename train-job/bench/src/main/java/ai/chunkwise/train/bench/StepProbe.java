package ai.chunkwise.train.bench;

import ai.chunkwise.train.engine.Batch;
import ai.chunkwise.train.engine.GradientEngine;
import ai.chunkwise.train.engine.InferencePass;
import ai.chunkwise.train.memory.PeakMemory;
import ai.chunkwise.train.model.LlamaModel;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One benchmark measurement in its own JVM, so that its peak memory is its own and a run that blows the memory
 * cap can be killed without taking the benchmark down: times one training (or inference) step of
 * {@link BenchLlama} on random tokens and prints one JSON line. Started by {@link ProbeRunner}.
 *
 * <p>Arguments: method tokens chunk budget sampling warmups repeats (budget/sampling only for spaco).
 */
public final class StepProbe {
    private StepProbe() {
    }

    public static void main(String[] args) throws Exception {
        ai.chunkwise.train.backend.CpuBuild.select();
        ProbeSpec spec = ProbeSpec.fromArgs(args);
        LlamaModel model = BenchLlama.create(42);
        // "idle": the model loaded and nothing run, the memory every other probe starts from
        Runnable step = spec.probe().equals(ProbeSpec.IDLE) ? () -> { }
                : stepOf(spec, model, Batch.of(BenchLlama.randomTokens(spec.tokens(), 7)));
        StepTimes times;
        try (PeakMemory memory = PeakMemory.start()) {
            try {
                times = StepTimes.measure(spec.warmups(), spec.repeats(), step);
            } catch (RuntimeException | OutOfMemoryError e) {
                OutOfMemoryError oom = outOfMemory(e);
                if (oom == null) {
                    throw e;
                }
                // e.g. JavaCPP's "Physical memory usage is too high": the method cannot run at this size here
                ObjectNode out = new ObjectMapper().createObjectNode();
                out.put("status", "out_of_memory");
                out.put("error", String.valueOf(oom.getMessage()));
                out.put("peak_rss_bytes", memory.peakResidentBytes());
                System.out.println(ProbeRunner.RESULT_PREFIX + out);
                return;
            }
            memory.close();
            ObjectNode out = new ObjectMapper().createObjectNode();
            out.put("status", "ok");
            out.put("nd4j_build", ai.chunkwise.train.backend.CpuBuild.describe());
            out.put("seconds_p50", times.median());
            out.put("seconds_p95", times.percentile(95));
            out.putPOJO("seconds", times.seconds());
            out.put("cpu_seconds_p50", times.cpuMedian());
            out.putPOJO("cpu_seconds", times.cpuSeconds());
            out.put("minor_faults_per_step_p50", (long) times.minorFaultsMedian());
            out.put("peak_rss_bytes", memory.peakResidentBytes());
            out.put("peak_offheap_bytes", memory.peakOffHeapBytes());
            out.put("peak_heap_bytes", memory.peakHeapBytes());
            out.put("peak_javacpp_tracked_bytes", memory.peakJavaCppTrackedBytes());
            System.out.println(ProbeRunner.RESULT_PREFIX + out);
        }
    }

    private static OutOfMemoryError outOfMemory(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof OutOfMemoryError oom) {
                return oom;
            }
        }
        return null;
    }

    private static Runnable stepOf(ProbeSpec spec, LlamaModel model, Batch batch) {
        if (spec.probe().equals(ProbeSpec.INFERENCE)) {
            InferencePass pass = new InferencePass(model, spec.chunk());
            return () -> pass.loss(batch);
        }
        GradientEngine engine = spec.engine().create(model);
        long[] seed = {1};   // a fresh chunk draw for every step, reproducible from run to run
        return () -> engine.compute(batch, seed[0]++);
    }
}
