package ai.chunkwise.train.cli;

import ai.chunkwise.train.data.TinyDatasets;
import ai.chunkwise.train.loop.TrainSettings;
import ai.chunkwise.train.loop.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;

import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPathFactory;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** train-job's console: quiet by default, --verbose shows the libraries, one version, a command list, a true ETA. */
class QuietCommandLineTest {

    @Test
    void trainIsQuietByDefaultAndVerboseShowsTheLibrariesLogging(@TempDir Path tmp) throws Exception {
        Path modelConfig = TinyDatasets.modelConfig(tmp);
        Path ds = TinyDatasets.write(tmp.resolve("ds"), 2);

        String quiet = trainInNewJvm(tmp, modelConfig, ds, "quiet", false);
        assertTrue(quiet.contains("step 1/1"), quiet);
        assertFalse(quiet.contains(" INFO "), "INFO lines in the default output:\n" + quiet);
        assertFalse(quiet.contains("Duplicate TF op mapping"), quiet);
        assertFalse(quiet.contains("native-hadoop"), quiet);

        String verbose = trainInNewJvm(tmp, modelConfig, ds, "verbose", true);
        assertTrue(verbose.contains("step 1/1"), verbose);
        assertTrue(verbose.contains("INFO org.nd4j"), "--verbose must show ND4J's start-up logging:\n" + verbose);
        assertTrue(verbose.contains("Duplicate TF op mapping"), verbose);
    }

    /** Runs TrainCli.main in its own JVM (logging is configured once per JVM) and returns stdout + stderr. */
    private static String trainInNewJvm(Path tmp, Path modelConfig, Path ds, String out, boolean verbose) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m"));
        // the --add-opens Arrow needs (the jar's manifest carries them; a plain classpath does not)
        ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("--add-opens")).forEach(cmd::add);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), TrainCli.class.getName(), "train",
                "--init-config", modelConfig.toString(), "--dataset", ds.toString(),
                "--out", tmp.resolve(out).toString(), "--steps", "1", "--set", "train.method.chunk-size=8"));
        if (verbose) {
            cmd.add("--verbose");
        }
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("OMP_NUM_THREADS", "1");
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), output);
        return output;
    }

    @Test
    void versionIsTheMavenProjectVersionAndNoSubcommandListsTheCommands() throws Exception {
        Document pom = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(new File("../pom.xml"));
        String version = XPathFactory.newInstance().newXPath().evaluate("/project/version", pom).trim();
        CommandRun v = CommandRun.of("--version");
        assertEquals(0, v.code());
        assertEquals("chunkwise " + version, v.out().trim());

        CommandRun bare = CommandRun.of();
        assertEquals(0, bare.code());
        for (String command : List.of("train", "eval", "grad")) {
            assertTrue(Pattern.compile("(?m)^\\s+" + command + "\\s").matcher(bare.out()).find(), bare.out());
        }
    }

    @Test
    void theEtaCountsToTheStepTheRunStopsAt(@TempDir Path tmp) throws Exception {
        Path modelConfig = TinyDatasets.modelConfig(tmp);
        Path ds = TinyDatasets.write(tmp.resolve("ds"), 2);
        TrainSettings s = TrainSettings.load(null, Map.of("train.model.init-config", "\"" + modelConfig + "\"",
                "train.data.dataset", "\"" + ds + "\"", "train.output", "\"" + tmp.resolve("out") + "\"",
                "train.steps", "100000", "train.method.chunk-size", "8"));
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        new Trainer(s, new PrintStream(console, true, StandardCharsets.UTF_8)).run(false, 2, false);
        String text = console.toString(StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("step (\\d+)/100000 .*ETA (\\d+):(\\d\\d):(\\d\\d)").matcher(text);
        List<Long> etas = new ArrayList<>();
        while (m.find()) {
            etas.add(Long.parseLong(m.group(2)) * 3600 + Long.parseLong(m.group(3)) * 60 + Long.parseLong(m.group(4)));
        }
        assertEquals(2, etas.size(), text);
        assertEquals(0, etas.get(1), "the run stops at step 2: nothing left after it\n" + text);
        // after step 1 one step remains, not 99,999: the ETA is about one step's time
        double stepSeconds = Double.parseDouble(Files.readAllLines(tmp.resolve("out/metrics.jsonl")).get(0)
                .replaceAll(".*\"step_seconds\":([0-9.eE-]+).*", "$1"));
        assertTrue(etas.get(0) <= 2 * stepSeconds + 2, "ETA " + etas.get(0) + " s after step 1 of a run stopping at 2\n" + text);
    }
}
