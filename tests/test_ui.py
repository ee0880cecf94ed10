"""`faceswap ui` in a real headless browser: Debian's chromium and chromedriver driven by selenium
(both from apt, by their paths; nothing is downloaded), on the sample videos and the session's
extracted faces and tiny swap model. Screenshots of each tab go to the test's tmp folder and to
build/ui_screenshots/."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from _convert_media import read_frames
from selenium import webdriver  # the dev extra; the server needs the ui extra (scripts/setup.sh installs both)
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

SCREENSHOTS = Path(__file__).resolve().parent.parent / "build" / "ui_screenshots"


class UiServer:
    """`faceswap ui WORKSPACE --port 0` as a user starts it; restartable on the same workspace."""

    def __init__(self, workspace: Path):
        self.workspace = workspace
        self.process: subprocess.Popen | None = None
        self.url = ""
        self.output: list[str] = []

    def start(self) -> str:
        self.process = subprocess.Popen([sys.executable, "-m", "faceswap", "ui", str(self.workspace), "--port", "0"],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = self.process.stdout.readline()
        assert "http://127.0.0.1:" in line, line + self.process.stdout.read()
        self.url = line.split()[2]
        # keep reading what the server prints (a full pipe would block it); shown when a test fails
        threading.Thread(target=lambda out=self.process.stdout: self.output.extend(out), daemon=True).start()
        return self.url

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # as Ctrl-C: uvicorn shuts down, the jobs (own sessions) go on
            self.process.wait(timeout=20)

    def stop_jobs(self) -> None:
        """Teardown only: end the background jobs this module started (they outlive the server by design)."""
        for state_file in (self.workspace / ".ui" / "jobs").glob("*.json"):
            state = json.loads(state_file.read_text())
            if state["status"] in ("starting", "running") and state.get("runner_pid"):
                try:
                    os.killpg(state["runner_pid"], signal.SIGKILL)
                except ProcessLookupError:
                    pass


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    return tmp_path_factory.mktemp("ui_workspace")


@pytest.fixture(scope="module")
def server(workspace):
    ui = UiServer(workspace)
    ui.start()
    yield ui
    ui.stop()
    ui.stop_jobs()


@pytest.fixture(scope="module")
def browser():
    paths = {name: shutil.which(name) for name in ("chromium", "chromedriver")}
    missing = [name for name, path in paths.items() if path is None]
    assert not missing, f"{' and '.join(missing)} missing: run scripts/setup.sh (apt-get install chromium chromium-driver)"
    options = webdriver.ChromeOptions()
    options.binary_location = paths["chromium"]
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1100", "--mute-audio"):
        options.add_argument(flag)
    os.environ["SE_OFFLINE"] = "true"  # selenium-manager must never fetch anything
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=paths["chromedriver"]))
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ui_screenshots")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def shoot(driver, name: str) -> None:
        driver.save_screenshot(str(folder / f"{name}.png"))
        shutil.copy2(folder / f"{name}.png", SCREENSHOTS / f"{name}.png")
    return shoot


def open_page(browser, url: str, tab: str = "project"):
    browser.get("about:blank")  # a new load each time, not only a new #hash
    browser.get(f"{url}#{tab}")
    wait(browser, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "1", 20)
    return browser


def wait(browser, condition, timeout: float):
    return WebDriverWait(browser, timeout, poll_frequency=0.2).until(condition)


def type_into(browser, element_id: str, text: str) -> None:
    field = browser.find_element(By.ID, element_id)
    field.clear()
    field.send_keys(text)


def click(browser, element_id: str) -> None:
    browser.find_element(By.ID, element_id).click()


def error_text(browser, timeout: float = 15) -> str:
    banner = browser.find_element(By.ID, "error")
    wait(browser, lambda d: banner.is_displayed() and banner.text.strip(), timeout)
    return banner.text


def newest_job(browser, kind: str, statuses: tuple[str, ...], timeout: float) -> dict:
    """{status, error} of the newest job of this kind in the page's table, once its status is one of ``statuses``."""
    def find(driver):
        job = driver.execute_script(  # in one call: the table is redrawn when a job changes
            "const row = document.querySelector(`#jobs tr.job[data-kind=${arguments[0]}]`);"
            "return row && {status: row.dataset.status, error: (row.querySelector('.job-error') || {}).textContent || ''};", kind)
        return job if job and job["status"] in statuses else False
    return wait(browser, find, timeout)


def test_page_loads_with_its_tabs(server, browser, shots, workspace):
    page = open_page(browser, server.url)
    assert page.title == "faceswap"
    tabs = [button.text for button in page.find_elements(By.CSS_SELECTOR, "#tabs button")]
    assert tabs == ["Project", "Extract", "Train", "Convert", "Classify"]
    assert page.find_element(By.ID, "workspace-name").text == str(workspace.resolve())
    assert page.find_element(By.ID, "tab-project").is_displayed() and not page.find_element(By.ID, "tab-train").is_displayed()
    shots(page, "1_project")
    page.find_element(By.CSS_SELECTOR, "#tabs button[data-tab=classify]").click()
    assert page.find_element(By.ID, "tab-classify").is_displayed()
    shots(page, "7_classify")


def test_extract_shows_the_faces_and_removing_one_updates_the_alignments(server, browser, shots, workspace, asset):
    page = open_page(browser, server.url)
    page.find_element(By.ID, "upload-file").send_keys(str(asset("video_single_face")))
    wait(page, lambda d: "uploaded uploads/single_face.mp4" in d.find_element(By.ID, "upload-status").text, 20)
    page.find_element(By.CSS_SELECTOR, "#tabs button[data-tab=extract]").click()
    assert page.find_element(By.ID, "extract-input").get_attribute("value") == "uploads/single_face.mp4"
    type_into(page, "extract-output", "faces/man")
    click(page, "extract-start")
    newest_job(page, "extract", ("done",), 120)
    tiles = wait(page, lambda d: d.find_elements(By.CSS_SELECTOR, "#gallery .face"), 20)
    listed = json.loads((workspace / "faces/man/alignments.json").read_text())
    names = [Path(face["face_file"]).name for frame in listed["frames"] for face in frame["faces"]]
    assert len(tiles) == len(names) >= 60  # the man's face in (nearly) every one of the 72 frames
    assert page.find_element(By.ID, "debug-video").is_displayed()
    wait(page, lambda d: d.execute_script("return [...document.querySelectorAll('#gallery img')].every(i => i.naturalWidth > 0)"
                                          " && document.getElementById('debug-video').readyState >= 2"), 20)
    shots(page, "2_extract_faces")

    chosen = [tile.get_attribute("data-name") for tile in tiles[3:5]]
    for tile in tiles[3:5]:
        tile.click()
    click(page, "faces-remove")
    wait(page, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#gallery .face")) == len(names) - 2, 15)
    assert "2 in the trash" in page.find_element(By.ID, "faces-count").text
    after = json.loads((workspace / "faces/man/alignments.json").read_text())
    kept = [Path(face["face_file"]).name for frame in after["frames"] for face in frame["faces"]]
    assert kept == [name for name in names if name not in chosen]
    assert all((workspace / "faces/man/trash/faces" / name).is_file() for name in chosen)
    shots(page, "3_extract_removed")


def copy_every_nth_face(faces_dir: Path, target: Path, nth: int) -> None:
    """A faces folder with the faces of every nth frame (a quicker face cache for a short training)."""
    listed = json.loads((faces_dir / "alignments.json").read_text())
    listed["frames"] = [frame for frame in listed["frames"] if frame["index"] % nth == 0]
    for face in (face for frame in listed["frames"] for face in frame["faces"]):
        for relative in (face["face_file"], face["mask_file"]):
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(faces_dir / relative, target / relative)
    (target / "alignments.json").write_text(json.dumps(listed))


def test_training_shows_a_preview_survives_a_server_restart_and_stops(server, browser, shots, workspace, extracted_faces):
    copy_every_nth_face(extracted_faces["a"], workspace / "faces/wolfgang", 4)
    copy_every_nth_face(extracted_faces["b"], workspace / "faces/single", 1)
    page = open_page(browser, server.url, "train")
    type_into(page, "train-a", "faces/wolfgang")
    type_into(page, "train-b", "faces/single")
    type_into(page, "train-model", "models/ab")
    type_into(page, "train-steps", "20000")  # ends only by the stop below, whatever the machine's speed
    type_into(page, "train-save-every", "10")
    page.find_element(By.CSS_SELECTOR, "#train-segmenter option[value=none]").click()
    click(page, "train-perceptual")  # off: the cheaper loss, as the session's model
    click(page, "train-start")
    newest_job(page, "train", ("running",), 30)

    server.stop()  # the server goes (as the page closing would): the training goes on
    open_page(browser, server.start(), "train")
    newest_job(page, "train", ("running",), 10)
    assert page.find_element(By.ID, "train-model").get_attribute("value") == "models/ab"
    preview = wait(page, lambda d: d.find_element(By.ID, "train-preview") if d.execute_script(
        "return document.getElementById('train-preview').naturalWidth") > 0 else False, 120)
    assert preview.is_displayed() and (workspace / "models/ab/preview.png").is_file()
    wait(page, lambda d: "step" in d.find_element(By.ID, "train-status").text, 10)
    wait(page, lambda d: d.find_element(By.ID, "train-a").get_attribute("value") == "faces/wolfgang", 10)  # its settings
    shots(page, "4_train_preview")

    click(page, "train-stop")
    newest_job(page, "train", ("stopped",), 90)
    assert (workspace / "models/ab/model.safetensors").is_file()  # saved on the way out, ready to resume


def test_convert_previews_one_frame_before_and_after(server, browser, shots, workspace, asset, trained_swap_model):
    model = workspace / "models/tiny"
    model.mkdir(parents=True, exist_ok=True)
    for name in ("model.json", "model.safetensors"):
        shutil.copy2(trained_swap_model / name, model / name)
    shutil.copytree(trained_swap_model / "segmenter", model / "segmenter", dirs_exist_ok=True)
    (workspace / "videos").mkdir(exist_ok=True)
    shutil.copy2(asset("video_wolfgang"), workspace / "videos/wolfgang.mp4")
    page = open_page(browser, server.url, "convert")
    type_into(page, "convert-input", "videos/wolfgang.mp4")
    type_into(page, "convert-model", "models/tiny")
    type_into(page, "convert-frame", "100")
    click(page, "convert-preview-btn")
    shown = wait(page, lambda d: d.execute_script("return document.getElementById('convert-preview').naturalWidth")
                 or d.find_element(By.ID, "error-text").text, 180)
    assert shown == 2 * 640, f"{shown}\n{''.join(server.output)[-3000:]}"  # before | after; else the page's error
    assert "1 face(s) swapped" in page.find_element(By.ID, "convert-preview-note").text
    shots(page, "5_convert_preview")

    import cv2

    picture = cv2.imread(str(next((workspace / ".ui/previews").glob("frame_000100_*.png"))))
    original = read_frames(workspace / "videos/wolfgang.mp4", 100, 101)[0]
    before, after = picture[:, :640].astype(int), picture[:, 640:].astype(int)
    assert np.abs(before[60:] - original[60:]).mean() < 1.0  # the left half is frame 100 (below its label)
    changed = np.abs(after[60:] - original[60:]).max(axis=2) > 12
    assert 0.005 < changed.mean() < 0.3  # the face is swapped, the rest of the frame is not


def test_a_bad_upload_and_paths_outside_the_workspace_show_errors(server, browser, shots, workspace, tmp_path):
    page = open_page(browser, server.url)
    notes = tmp_path / "notes.mp4"
    notes.write_text("these are notes, not a video\n")
    page.find_element(By.ID, "upload-file").send_keys(str(notes))
    assert "'notes.mp4' is not a MP4 file" in error_text(page)
    assert not (workspace / "uploads/notes.mp4").exists() and not list((workspace / "uploads").glob(".notes*"))
    shots(page, "6_error_upload")

    page.find_element(By.CSS_SELECTOR, "#tabs button[data-tab=extract]").click()
    (workspace / "escape").symlink_to(tmp_path, target_is_directory=True)
    for path, sentence in (("../outside", "leaves the workspace"), ("/etc", "is absolute"),
                           ("escape", "outside the workspace (through a link)")):
        click(page, "error-close")
        type_into(page, "faces-folder", path)
        click(page, "faces-load")
        assert sentence in error_text(page), path
    shots(page, "6_error_path")


def test_a_failed_job_shows_its_one_line_error_and_the_page_stays_usable(server, browser, shots, workspace, tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 64)  # an MP4 header, then noise
    page = open_page(browser, server.url)
    page.find_element(By.ID, "upload-file").send_keys(str(broken))
    wait(page, lambda d: "uploaded uploads/broken.mp4" in d.find_element(By.ID, "upload-status").text, 20)
    page.find_element(By.CSS_SELECTOR, "#tabs button[data-tab=extract]").click()
    type_into(page, "extract-output", "faces/broken")
    click(page, "extract-start")
    message = newest_job(page, "extract", ("failed",), 60)["error"]
    assert "is not a readable video or image" in message and "\n" not in message
    assert "is not a readable video or image" in error_text(page)
    shots(page, "8_job_failed")
    click(page, "error-close")  # still usable: another action works
    type_into(page, "faces-folder", "faces/man")
    click(page, "faces-load")
    wait(page, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#gallery .face")) > 0, 10)
    assert not page.find_element(By.ID, "error").is_displayed()
