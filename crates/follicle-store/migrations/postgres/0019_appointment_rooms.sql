-- Issue 14 (item 1): the diary's rooms (or chairs). Keep in step with ../sqlite/0019_appointment_rooms.sql.
--
-- The clinic's rooms are a setting (`diary.rooms`, a list of names); an appointment keeps the name
-- of its room, or NULL (no room given, or a clinic with one room). A room renamed in the settings
-- leaves the appointments booked in it under the old name. A room is booked once at a time unless
-- the booking gives a reason (kept in the appointment's history), as a practitioner is.
ALTER TABLE appointments ADD COLUMN room TEXT;
-- A room's appointments around a time: the double-booking check.
CREATE INDEX appointments_room ON appointments (clinic_id, room, starts_at) WHERE room IS NOT NULL;
