package ai.chunkwise.train.loop;

import ai.chunkwise.train.checkpoint.ModelExport;
import ai.chunkwise.train.data.HadoopEnvironment;
import ai.chunkwise.train.model.LlamaModel;
import ai.chunkwise.train.optim.AdamW;
import ai.chunkwise.train.reliability.FiniteTensors;
import ai.chunkwise.train.reliability.RunFingerprint;
import ai.chunkwise.train.storage.RemoteOutput;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;

/**
 * Where a run writes: its checkpoints, the remote output they are copied to (null for a local output), and the
 * run's identity that every checkpoint records.
 */
record RunOutputs(CheckpointStore store, RemoteOutput remote, RunFingerprint fingerprint) {

    /**
     * A remote output (train.output on a Hadoop file system) staged locally, its published files pulled first;
     * null for a local output.
     */
    static RemoteOutput stageRemote(TrainSettings s, PrintStream console) {
        if (!s.remoteOutput()) {
            return null;
        }
        RemoteOutput remote = RemoteOutput.open(s.outputLocation(), s.output(),
                HadoopEnvironment.configuration());   // under spark-submit: spark.hadoop.* too, as for the data
        remote.removeOrphans().forEach(p -> console.println("removed " + p + ", left behind by a killed run"));
        remote.pull();
        console.println("output " + s.outputLocation() + " (staged in " + s.output() + ")");
        return remote;
    }

    /** One checkpoint (marked unhealthy when anything in it is non-finite), copied to a remote output. */
    Path saveCheckpoint(TrainSettings s, ModelSetup setup, ModelExport export, AdamW optimizer, TrainerState state,
                        boolean finiteStep, double loss) {
        LlamaModel model = setup.model();
        Map<String, INDArray> optimizerState = optimizer.state();
        boolean healthy = finiteStep && FiniteTensors.firstNonFinite(model.trainableParameters()).isEmpty()
                && FiniteTensors.firstNonFinite(optimizerState).isEmpty();
        Path checkpoint = store.save(state, model.config(), s.model().lora(), setup.baseModel(),
                model.trainableParameters(), optimizerState, s.model().dataType(), s.rendered(), export, healthy, loss, fingerprint);
        if (remote != null) {
            remote.publishCheckpoint(checkpoint, RemoteOutput.names(store.stepDirectories()));
            remote.publishFile(MetricsLog.FILE_NAME);
        }
        return checkpoint;
    }
}
