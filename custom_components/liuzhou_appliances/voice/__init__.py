"""Assist (voice and typed) commands for Liuzhou appliances, in English and Simplified Chinese.

Parts, one job each:

- ``targets.py``: which appliance a sentence means (type, name, area, floor, the
  asking device); ``handler.py``: the handler base class and the shared answers;
- ``speech.py``: spoken numbers, durations and clock times; ``clock.py``: a said
  time as a datetime; ``numbers.py``: hassil ranges from declared bounds and said
  values ("零下二十度", "二十六度半"); ``words.py``: our translations in the spoken language;
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
2. Add ``HANDLERS`` (and a ``generated_lists(appliances, language)`` factory, e.g.
   ``numbers.range_list`` of the declared bounds) in ``domains.py``; in sentences
   ``[{lz_below_zero:sign}]{lz_<your list>:degrees}度[{lz_half_unit:half}]`` and in
   the handler ``numbers.said_number(call.slots, "degrees")``.
3. ``sentences/en/<domain>.yaml`` and ``sentences/zh-cn/<domain>.yaml``: lists,
   expansion rules and intents; prefix list and rule names with ``lz_``; reuse
   ``common.yaml``'s ``<lz_clock>`` (both), ``<lz_let>`` and ``<lz_place>`` (zh-cn),
   the generated ``{lz_name:name}`` and Home Assistant's ``{area}`` and ``{floor}``.
   Keep optional parts few: each one multiplies the matching work (a sentence of
   many optional parts took seconds to fail to match). A wildcard
   ``{lz_unknown_name:name}`` sentence lets an unknown name be answered as not found.
4. ``tests/voice/corpus/<lang>/<domain>.yaml`` (layout: tests/voice/corpus_runner.py); the
   corpus test runs every file through the default agent against simulated appliances.
"""
