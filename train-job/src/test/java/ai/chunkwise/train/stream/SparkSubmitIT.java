package ai.chunkwise.train.stream;

import ai.chunkwise.train.data.TinyDatasets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The built train-job.jar under Spark's own launcher ({@code org.apache.spark.deploy.SparkSubmit --master local[2]},
 * client deploy mode, Spark's jars from tokenize-job/target/lib as spark-submit would supply them): the trainer runs
 * in the driver, reads its dataset through Spark's Hadoop configuration, and the JVM ends 0 on success without
 * System.exit(0); a failure ends non-zero with the error in the driver's output.
 */
class SparkSubmitIT {

    @Test
    void theTrainerRunsInsideASparkDriverAndExitsCleanly(@TempDir Path tmp) throws Exception {
        Path moduleDir = Path.of("").toAbsolutePath();
        Path jar = moduleDir.resolve("target/train-job.jar");
        Path sparkLib = moduleDir.resolve("../tokenize-job/target/lib").normalize();
        assertTrue(Files.isRegularFile(jar), "package train-job first: " + jar);
        assertTrue(Files.isDirectory(sparkLib) && Files.exists(sparkLib.resolve("spark-core_2.13-4.0.1.jar")),
                "Spark's jars come from the tokenize-job module's build (mvn verify builds it first): " + sparkLib);

        Path data = tmp.resolve("real/ds");
        TinyDatasets.write(data, 6);
        Path config = TinyDatasets.modelConfig(tmp);
        // a view file system whose mount table exists only in Spark's configuration (spark.hadoop.*): the dataset
        // is found only if the trainer reads through Spark's Hadoop configuration
        String mount = "spark.hadoop.fs.viewfs.mounttable.chunkwise.link./data=" + tmp.resolve("real").toUri();

        Run ok = sparkSubmit(sparkLib, jar, tmp, List.of("--conf", mount), List.of("train", "--init-config",
                config.toString(), "--dataset", "viewfs://chunkwise/data/ds", "--out", tmp.resolve("out").toString(),
                "--steps", "2", "--set", "train.checkpoint-every=0"));
        assertEquals(0, ok.code, ok.output);
        assertTrue(ok.output.contains("complete: 2 of 2 steps"), ok.output);   // the closing summary line
        assertTrue(Files.isRegularFile(tmp.resolve("out/checkpoints/step-000002/model/model.safetensors")));

        Run bad = sparkSubmit(sparkLib, jar, tmp, List.of(), List.of("train", "--init-config", config.toString(),
                "--dataset", tmp.resolve("missing").toString(), "--out", tmp.resolve("out2").toString(), "--steps", "1"));
        assertNotEquals(0, bad.code, bad.output);
        assertTrue(bad.output.contains("error: dataset " + tmp.resolve("missing") + " does not exist"), bad.output);
    }

    private record Run(int code, String output) {
    }

    private static Run sparkSubmit(Path sparkLib, Path jar, Path workDir, List<String> sparkArgs, List<String> appArgs)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "--add-opens=java.base/java.nio=ALL-UNNAMED", "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
                "--add-opens=java.base/java.lang=ALL-UNNAMED", "--add-opens=java.base/java.util=ALL-UNNAMED",
                "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED",
                "-cp", sparkLib + "/*", "org.apache.spark.deploy.SparkSubmit",
                "--master", "local[2]", "--deploy-mode", "client", "--class", "ai.chunkwise.train.cli.TrainCli",
                "--conf", "spark.ui.enabled=false"));
        command.addAll(sparkArgs);
        command.add(jar.toString());
        command.addAll(appArgs);
        ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true);
        pb.environment().put("OMP_NUM_THREADS", "1");
        pb.environment().put("OPENBLAS_NUM_THREADS", "1");
        pb.environment().remove("SPARK_HOME");
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "spark-submit did not end");
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
