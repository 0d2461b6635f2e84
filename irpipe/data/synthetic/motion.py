"""Class-specific, parameterised motions of the stick figures.

Every motion is ``fn(t, prm, rng) -> [pose, ...]`` (one pose track per actor, see
``skeleton``), where ``t`` holds the frame times in seconds and ``prm`` the per-video
variation: ``speed`` (tempo factor), ``phase`` (radians), ``amp`` (amplitude factor).
Two-actor motions return [actor A, actor B]; A faces B.

The classes share the same bodies and mostly differ in *how* limbs move: tempo, which
joints move, periodic vs. one-off, locomotion or not. The tempi (Hz) below are plausible
human rates, not measured from InfAR.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .skeleton import ARM_PREF, LIMBS, SIDE, idle_pose

R = np.radians


def _smoothstep(x):
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _bump(x, a, b, ramp):
    """1 between a and b, smooth ramps of width ``ramp`` outside, 0 elsewhere."""
    return _smoothstep((x - a + ramp) / ramp) * _smoothstep((b + ramp - x) / ramp)


def sway(p, t, prm, amount=1.0):
    """Small idle body sway and arm drift, so nobody is perfectly still."""
    ph = prm.get("phase", 0.0)
    p["lean"] = p["lean"] + amount * R(1.5) * np.sin(2 * np.pi * 0.35 * t + ph)
    p["lat"] = p["lat"] + amount * 0.008 * np.sin(2 * np.pi * 0.23 * t + 2 * ph)
    for limb in ("la", "ra"):
        p[f"{limb}_flex"] = p[f"{limb}_flex"] + amount * R(3) * np.sin(2 * np.pi * 0.3 * t + ph + SIDE[limb])
    return p


# ----------------------------------------------------------------------------- locomotion
def gait(t, prm, freq, hip, knee, arm, elbow, lean, speed_hu, bounce=0.0, knee_base=8.0):
    """A cyclic gait (walk / jog): legs in anti-phase, arms counter-swinging."""
    p = idle_pose(len(t))
    th = 2 * np.pi * freq * prm["speed"] * t + prm["phase"]
    a = prm["amp"]
    for limb, sgn in (("ll", 1.0), ("rl", -1.0)):
        ph = th if sgn > 0 else th + np.pi
        p[f"{limb}_flex"] = R(hip) * a * np.sin(ph)
        p[f"{limb}_bend"] = R(knee_base) + R(knee) * a * np.clip(np.sin(ph + 1.2), 0, None) ** 1.5
        p[f"{limb}_abd"][:] = R(2.0)
    for limb, sgn in (("la", -1.0), ("ra", 1.0)):
        ph = th if sgn > 0 else th + np.pi
        p[f"{limb}_flex"] = R(4) + R(arm) * a * np.sin(ph)
        p[f"{limb}_bend"] = R(elbow) + R(10) * a * np.clip(np.sin(ph), 0, None)
    p["lean"] = np.full(len(t), R(lean))
    p["lift"] = bounce * a * np.abs(np.sin(th + 0.6))
    p["fwd"] = speed_hu * prm["speed"] * t
    return p


def walk(t, prm, rng):
    return [gait(t, prm, freq=0.95, hip=24, knee=38, arm=20, elbow=14, lean=3, speed_hu=0.75)]


def jog(t, prm, rng):
    return [gait(t, prm, freq=1.4, hip=36, knee=75, arm=32, elbow=88, lean=10, speed_hu=1.25,
                 bounce=0.045, knee_base=25)]


def skip(t, prm, rng):
    """Step-hop: high knee on one side per hop, large arm swing, strong bounce."""
    p = idle_pose(len(t))
    f = 1.1 * prm["speed"]
    th = 2 * np.pi * f * t + prm["phase"]
    a = prm["amp"]
    for limb, ph in (("ll", th), ("rl", th + np.pi)):
        hi = np.clip(np.sin(ph), 0, None) ** 2
        p[f"{limb}_flex"] = R(-12) * np.cos(ph) * a + R(62) * a * hi
        p[f"{limb}_bend"] = R(10) + R(85) * a * hi
    for limb, ph in (("la", th + np.pi), ("ra", th)):
        p[f"{limb}_flex"] = R(10) + R(48) * a * np.sin(ph)
        p[f"{limb}_bend"] = R(35) + R(25) * a * np.clip(np.sin(ph), 0, None)
    p["lift"] = 0.09 * a * np.abs(np.sin(th)) ** 1.5
    p["lean"][:] = R(6)
    p["fwd"] = 0.85 * prm["speed"] * t
    return [p]


# ------------------------------------------------------------------------------ in place
def jump(t, prm, rng):
    """Jumping on the spot: crouch, swing arms up, take off, land."""
    p = idle_pose(len(t))
    th = 2 * np.pi * 0.85 * prm["speed"] * t + prm["phase"]
    a = prm["amp"]
    air = np.clip(np.sin(th), 0, None) ** 1.5
    crouch = np.clip(-np.sin(th), 0, None)
    p["lift"] = 0.16 * a * air
    for limb in ("ll", "rl"):
        p[f"{limb}_flex"] = R(5) + R(48) * a * crouch
        p[f"{limb}_bend"] = R(6) + R(75) * a * crouch
    for limb in ("la", "ra"):
        p[f"{limb}_flex"] = R(15) + R(135) * a * air - R(35) * crouch
        p[f"{limb}_abd"] = R(10) + R(15) * air
        p[f"{limb}_bend"] = R(15) + R(20) * crouch
    p["lean"] = R(3) + R(25) * a * crouch
    return [p]


def handclapping(t, prm, rng):
    """Forearms in front of the chest open and close at about 2 Hz."""
    p = sway(idle_pose(len(t)), t, prm, 0.5)
    th = 2 * np.pi * 2.0 * prm["speed"] * t + prm["phase"]
    a = prm["amp"]
    open_ = 0.5 + 0.5 * np.sin(th)
    for limb in ("la", "ra"):
        s = SIDE[limb]
        p[f"{limb}_flex"] = R(38) + R(6) * np.sin(th)
        p[f"{limb}_abd"] = R(14) + R(6) * open_
        p[f"{limb}_bend"] = R(95) - R(50) * a * open_
        p[f"{limb}_pref"] = np.tile([-s, 0.25, 1.0], (len(t), 1))
    return [p]


def _wave_arm(p, limb, th, a):
    s = SIDE[limb]
    p[f"{limb}_abd"] = R(105) + R(8) * np.sin(th + 0.5)
    p[f"{limb}_flex"] = np.full(len(th), R(15))
    p[f"{limb}_bend"] = R(55) + R(38) * a * np.sin(th)
    p[f"{limb}_pref"] = np.tile([-s, 1.0, 0.0], (len(th), 1))
    return p


def wave1(t, prm, rng):
    """One raised arm waving side to side; the other hangs."""
    p = sway(idle_pose(len(t)), t, prm, 0.6)
    th = 2 * np.pi * 1.8 * prm["speed"] * t + prm["phase"]
    return [_wave_arm(p, "ra" if rng.random() < 0.7 else "la", th, prm["amp"])]


def wave2(t, prm, rng):
    """Both arms raised and waving (mirror-symmetric)."""
    p = sway(idle_pose(len(t)), t, prm, 0.6)
    th = 2 * np.pi * 1.5 * prm["speed"] * t + prm["phase"]
    _wave_arm(p, "ra", th, prm["amp"])
    return [_wave_arm(p, "la", th, prm["amp"])]


# ------------------------------------------------------------------------------ two actors
def _guard(p, n):
    for limb in ("la", "ra"):
        p[f"{limb}_flex"] = np.full(n, R(55))
        p[f"{limb}_abd"] = np.full(n, R(12))
        p[f"{limb}_bend"] = np.full(n, R(115))
    return p


def punch(t, prm, rng):
    """A throws alternating straight punches; B guards and recoils after each hit."""
    n = len(t)
    a = prm["amp"]
    th = 2 * np.pi * 1.1 * prm["speed"] * t + prm["phase"]
    A = _guard(sway(idle_pose(n), t, prm, 0.4), n)
    for limb, ph in (("ra", th), ("la", th + np.pi)):
        hit = np.clip(np.sin(ph), 0, None) ** 3
        A[f"{limb}_flex"] = R(55) + R(32) * a * hit
        A[f"{limb}_bend"] = R(115) * (1 - a * hit).clip(0.05)
    A["lean"] = R(5) + R(8) * a * np.clip(np.sin(th), 0, None) ** 3
    A["ll_flex"][:] = R(14)
    A["rl_flex"][:] = R(-8)
    B = _guard(sway(idle_pose(n), t, prm, 0.4), n)
    recoil = np.clip(np.sin(2 * th - 0.9), 0, None) ** 3
    B["lean"] = R(2) - R(14) * a * recoil
    B["fwd"] = -0.03 * a * recoil
    return [A, B]


def push(t, prm, rng):
    """A steps in and shoves B with both hands once; B stumbles backwards."""
    n = len(t)
    a = prm["amp"]
    dur = max(t[-1], 1e-3)
    tp = prm.get("event", 0.45) * dur  # moment of contact
    reach = _smoothstep((t - (tp - 0.6 / prm["speed"])) / (0.6 / prm["speed"]))
    shove = _smoothstep((t - tp) / (0.35 / prm["speed"]))
    back = _smoothstep((t - tp) / (0.9 / prm["speed"]))
    A = sway(idle_pose(n), t, prm, 0.3)
    for limb in ("la", "ra"):
        A[f"{limb}_flex"] = R(5) + R(80) * reach
        A[f"{limb}_abd"] = R(10) + R(8) * reach
        A[f"{limb}_bend"] = R(80) * reach * (1 - shove) + R(10)
    A["lean"] = R(3) + R(16) * a * shove * (1 - 0.5 * back)
    A["fwd"] = 0.14 * a * shove
    A["ll_flex"] = R(2) + R(22) * shove * (1 - back)
    B = sway(idle_pose(n), t, prm, 0.3)
    B["fwd"] = -0.45 * a * back
    B["lean"] = R(2) - R(18) * a * shove * (1 - 0.6 * back)
    for limb in ("la", "ra"):
        B[f"{limb}_abd"] = R(7) + R(55) * a * shove * (1 - back * 0.7)
        B[f"{limb}_flex"] = R(4) + R(30) * shove * (1 - back)
    B["rl_flex"] = R(-25) * shove * (1 - back)
    return [A, B]


def hug(t, prm, rng):
    """Both step in, wrap their arms around each other and hold, swaying slightly."""
    n = len(t)
    dur = max(t[-1], 1e-3)
    close = _smoothstep(t / (0.35 * dur))
    wrap = _smoothstep((t - 0.2 * dur) / (0.3 * dur))
    if prm.get("release"):  # untrimmed videos: let go and step back before the end
        close = _smoothstep(t / (0.3 * dur)) * (1 - _smoothstep((t - 0.8 * dur) / (0.2 * dur)))
        wrap = _smoothstep((t - 0.15 * dur) / (0.25 * dur)) * (1 - _smoothstep((t - 0.65 * dur) / (0.17 * dur)))
    out = []
    for who in range(2):
        p = sway(idle_pose(n), t, prm, 0.5)
        moving = np.abs(np.gradient(close)) > 1e-3
        step = np.sin(2 * np.pi * 1.6 * t + who) * moving
        p["ll_flex"] = R(2) + R(15) * step
        p["rl_flex"] = R(2) - R(15) * step
        p["fwd"] = 0.2 * close
        p["lean"] = R(4) + R(5) * wrap + R(2) * np.sin(2 * np.pi * 0.5 * prm["speed"] * t) * wrap
        for limb in ("la", "ra"):
            s = SIDE[limb]
            p[f"{limb}_flex"] = R(5) + R(75) * wrap
            p[f"{limb}_abd"] = R(7) + R(30) * wrap * (1.0 if (limb == "la") == (who == 0) else 0.6)
            p[f"{limb}_bend"] = R(12) + R(70) * wrap
            p[f"{limb}_pref"] = np.tile([-s, 0.3, 1.0], (n, 1))
        out.append(p)
    return out


def handshake(t, prm, rng):
    """Right hands extended towards each other and pumped up and down."""
    n = len(t)
    a = prm["amp"]
    reach = _smoothstep(t / 0.5)
    th = 2 * np.pi * 2.3 * prm["speed"] * t + prm["phase"]
    out = []
    for who in range(2):
        p = sway(idle_pose(n), t, prm, 0.4)
        p["ra_flex"] = R(5) + R(50) * reach + R(11) * a * np.sin(th) * reach
        p["ra_bend"] = R(12) + R(22) * reach - R(8) * a * np.sin(th) * reach
        p["ra_abd"] = R(-6) * reach + R(7) * (1 - reach)
        p["lean"] = R(5) * reach
        out.append(p)
    return out


def fight(t, prm, rng):
    """Both actors: irregular fast punches and kicks, shuffling feet, dodging."""
    n = len(t)
    a = prm["amp"]
    out = []
    for who in range(2):
        p = _guard(idle_pose(n), n)
        for limb in LIMBS:
            arm = limb[1] == "a"
            sig = np.zeros(n)
            for _ in range(3):
                f = rng.uniform(0.9, 2.8) * prm["speed"]
                sig += rng.uniform(0.5, 1.0) * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
            sig /= 2.0
            if arm:
                strike = np.clip(sig, 0, None) ** 2
                p[f"{limb}_flex"] = R(50) + R(45) * a * strike + R(15) * sig
                p[f"{limb}_bend"] = (R(115) * (1 - 0.9 * a * strike)).clip(R(5))
                p[f"{limb}_abd"] = R(12) + R(20) * np.clip(-sig, 0, None)
            else:
                kick = np.clip(sig - 0.6, 0, None) * (1.0 if limb == "rl" else 0.3)
                p[f"{limb}_flex"] = R(6) * sig + R(70) * a * kick
                p[f"{limb}_bend"] = R(15) + R(30) * np.abs(sig) * (1 - kick.clip(0, 1))
        dodge = np.sin(2 * np.pi * rng.uniform(0.4, 0.9) * t + rng.uniform(0, 6.3))
        p["lat"] = 0.06 * a * dodge
        p["fwd"] = 0.05 * a * np.sin(2 * np.pi * rng.uniform(0.5, 1.2) * t + rng.uniform(0, 6.3))
        p["lean"] = R(8) + R(8) * dodge
        out.append(p)
    return out


# ------------------------------------------------------------------------ background acts
def idle(t, prm, rng):
    """Standing bystander: sway, occasionally a hand to the face or hands on hips."""
    p = sway(idle_pose(len(t)), t, prm, 1.0)
    style = rng.integers(0, 3)
    if style == 1:  # hands on hips
        for limb in ("la", "ra"):
            p[f"{limb}_abd"][:] = R(38)
            p[f"{limb}_bend"][:] = R(95)
            p[f"{limb}_pref"] = np.tile([-SIDE[limb], 0.0, -0.3], (len(t), 1))
    elif style == 2:  # arms folded
        for limb in ("la", "ra"):
            p[f"{limb}_flex"][:] = R(22)
            p[f"{limb}_bend"][:] = R(110)
            p[f"{limb}_pref"] = np.tile([-SIDE[limb], 0.3, 1.0], (len(t), 1))
    return [p]


def gesture(t, prm, rng):
    """Idle with one slow non-class gesture (hand to head and back) somewhere in the span."""
    p = idle(t, prm, rng)[0]
    if len(t) > 2:
        c = rng.uniform(t[0], t[-1])
        g = _bump(t, c - 0.4, c + 0.4, 0.5)
        limb = "ra" if rng.random() < 0.5 else "la"
        p[f"{limb}_flex"] = p[f"{limb}_flex"] * (1 - g) + R(70) * g
        p[f"{limb}_bend"] = p[f"{limb}_bend"] * (1 - g) + R(130) * g
        p[f"{limb}_abd"] = p[f"{limb}_abd"] * (1 - g) + R(25) * g
    return p


def carry(p, limb="ra"):
    """Hold an object in front of the body with one forearm (modifies ``p``)."""
    n = len(p["lean"])
    p[f"{limb}_flex"] = np.full(n, R(22))
    p[f"{limb}_abd"] = np.full(n, R(6))
    p[f"{limb}_bend"] = np.full(n, R(80))
    p[f"{limb}_pref"] = np.tile(ARM_PREF, (n, 1))
    return p


DROP_RELEASE = 0.5  # fraction of a drop instance at which the object leaves the hand


def drop(t, prm, rng, limb="ra"):
    """Bend down with the carried object, let go at the lowest point, straighten up."""
    n = len(t)
    dur = max(t[-1], 1e-3)
    u = t / dur
    c = np.sin(np.pi * np.clip(u, 0, 1)) ** 2
    p = carry(idle_pose(n), limb)
    p["lean"] = R(3) + R(38) * c * prm.get("amp", 1.0)
    for leg in ("ll", "rl"):
        p[f"{leg}_flex"] = R(2) + R(40) * c
        p[f"{leg}_bend"] = R(4) + R(55) * c
    held = u < DROP_RELEASE
    p[f"{limb}_flex"] = R(22) + R(40) * c
    p[f"{limb}_bend"] = np.where(held, R(80) - R(65) * c, R(15) * c + R(12) * (1 - c))
    return p


@dataclass(frozen=True)
class ClassMotion:
    fn: Callable
    actors: int
    locomotion: bool = False
    separation: tuple[float, float] = (0.0, 0.0)  # distance between two actors, body units


CLASS_MOTIONS: dict[str, ClassMotion] = {
    "fight": ClassMotion(fight, 2, separation=(0.42, 0.55)),
    "handclapping": ClassMotion(handclapping, 1),
    "handshake": ClassMotion(handshake, 2, separation=(0.52, 0.6)),
    "hug": ClassMotion(hug, 2, separation=(0.65, 0.75)),
    "jog": ClassMotion(jog, 1, locomotion=True),
    "jump": ClassMotion(jump, 1),
    "punch": ClassMotion(punch, 2, separation=(0.45, 0.55)),
    "push": ClassMotion(push, 2, separation=(0.42, 0.5)),
    "skip": ClassMotion(skip, 1, locomotion=True),
    "walk": ClassMotion(walk, 1, locomotion=True),
    "wave1": ClassMotion(wave1, 1),
    "wave2": ClassMotion(wave2, 1),
}
