"""Motion cueing for a motion-platform driving simulator: washout, MPC, Stewart platform, perception.

The chain, one physics step (docs/drive.md):

    vehicle specific force and angular rate at the driver's head (body frame)
      -> cueing filter (``ClassicalWashout`` or ``MpcCueing``): platform pose wanted
      -> ``StewartPlatform.command``: inverse kinematics, actuator length / velocity /
         acceleration limits, forward kinematics of the limited legs: the pose commanded
      -> logged, streamed over UDP (``simcore.drive.udp``)

After a run, ``vestibular`` turns both the vehicle's and the platform's motion into what the
driver perceives, and ``fidelity`` compares them (correlation, delay, false cues) and computes
the motion-sickness dose value (MSDV, ISO 2631-1 ``Wf`` weighting, ``iso2631``).
"""
