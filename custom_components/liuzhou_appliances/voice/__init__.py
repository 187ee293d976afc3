"""Assist (voice and typed) commands for Liuzhou appliances, in English and Simplified Chinese.

Parts, one job each:

- ``targets.py``: which appliance a sentence means (type, name, area, floor, the
  asking device); ``handler.py``: the handler base class and the shared answers;
- ``speech.py``: spoken numbers, durations and clock times; ``clock.py``: a said
  time as a datetime; ``words.py``: our translations in the spoken language;
- ``sentence_files.py`` / ``install.py``: the sentence files in
  ``<config>/custom_sentences/<lang>/liuzhou_appliances/`` (installed, updated
  unless edited, removed with the last appliance) and the generated name list;
- ``domains.py``: every domain's handlers; ``wet_cycle.py``: washer and dishwasher;
  ``fridge.py``: compartment setpoints, modes, door; ``ac.py``: mode, fan, swing, eco,
  sleep (on/off and the setpoint are Home Assistant's climate intents); ``energy.py``
  with ``energy_history.py``: use and cost, savings, the price now, demand response.

How to add a domain (``fridge``, ``ac``, ``energy`` ...):

1. ``voice/<domain>.py``: handler classes derived from ``ApplianceIntentHandler``
   (``intent_type`` "Liuzhou<Something>", ``description``, ``kinds``, ``responses``
   with the same keys in "en" and "zh", ``extra_slots``, ``async_act(call)`` that
   acts through ``call.appliance.coordinator.async_write/async_command`` or a
   service action of ours and returns the answer), and ``HANDLERS``; raise
   ``VoiceError(key, **values)`` for what cannot be done (spoken values: use
   ``speech.temperature``/``number``/``duration``/``clock``). Hub-wide intents
   (energy for the home) may derive from ``intent.IntentHandler`` directly.
2. Add ``HANDLERS`` (and a ``generated_lists`` factory, e.g. ranges from the
   declared bounds) in ``domains.py``.
3. ``sentences/en/<domain>.yaml`` and ``sentences/zh-cn/<domain>.yaml``: lists,
   expansion rules and intents; prefix list and rule names with ``lz_``; reuse
   ``common.yaml``'s ``<lz_clock>``, ``<lz_let>``, ``<lz_place>`` and ``{lz_name:name}``.
   Keep optional parts few: each one multiplies the matching work.
4. ``tests/voice/corpus/<lang>/<domain>.yaml`` (see tests/voice/README.md).
"""
